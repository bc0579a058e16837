"""Who the customer is on this request: the portal's own session, apart from agents' login.

The session holds ``portal:<tenant id>`` → ``{"account": id, "hash": …}``. The key carries
the tenant, so a session that signed in on tenant A's host is nothing on tenant B's (even
when a shared cookie domain sends the same session to both), and the account is looked up
within the host's tenant. The hash is an HMAC of the account's address and password hash:
setting a password elsewhere ends the other sessions. ``request.user`` is never involved.

Also here: the guards of the public forms (rate limits, the signed render time).
"""
from __future__ import annotations

import hashlib
import secrets
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac

from channels_hub.models import PortalAccount
from helpdesk.console.ratelimit import client_ip, window_count  # noqa: F401 - client_ip: for the views

SESSION_PREFIX = "portal:"
_HASH_SALT = "channels_hub.portal.session"
_FORM_SALT = "channels_hub.portal.form"


def _session_key(tenant_id: int) -> str:
    return f"{SESSION_PREFIX}{tenant_id}"


def session_hash(account: PortalAccount) -> str:
    return salted_hmac(_HASH_SALT, f"{account.pk}:{account.email}:{account.password}",
                       algorithm="sha256").hexdigest()


def portal_login(request, account: PortalAccount) -> None:
    """Sign ``account`` in on this tenant's host (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session[_session_key(account.tenant_id)] = {"account": account.pk, "hash": session_hash(account)}


def portal_refresh(request, account: PortalAccount) -> None:
    """Keep this session signed in after the account's password changed."""
    request.session[_session_key(account.tenant_id)] = {"account": account.pk, "hash": session_hash(account)}


def portal_logout(request, tenant_id: int) -> None:
    """End the customer's session on this tenant only (an agent's login stays)."""
    request.session.pop(_session_key(tenant_id), None)
    request.session.cycle_key()


def current_account(request) -> PortalAccount | None:
    """The signed-in customer's account on this host's tenant, with its contact (one query)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not hasattr(request, "session"):
        return None
    data = request.session.get(_session_key(tenant.pk))
    if not isinstance(data, dict) or not isinstance(data.get("account"), int):
        return None
    account = (PortalAccount.objects.filter(tenant=tenant, pk=data["account"])
               .select_related("contact", "contact__organization").first())
    if account is None or not constant_time_compare(str(data.get("hash", "")), session_hash(account)):
        request.session.pop(_session_key(tenant.pk), None)
        return None
    return account


# --- rate limits -------------------------------------------------------------------------

def limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def over_limit(*, kind: str, tenant_id: int, subject: str, per_hour: int) -> bool:
    """Count one attempt of ``kind`` by ``subject`` (an address, an IP) and say whether it
    goes over ``per_hour``. A fixed one-hour window in the shared cache (Redis in full mode)."""
    digest = hashlib.sha256(f"{kind}\0{tenant_id}\0{subject.strip().lower()}".encode()).hexdigest()[:40]
    return window_count(f"portal:rate:{digest}", 3600) > per_hour


# --- the signed render time of a form ----------------------------------------------------

FORM_TOO_FAST = "too_fast"
FORM_EXPIRED = "expired"
FORM_INVALID = "invalid"
FORM_REPLAYED = "replayed"
FORM_MAX_AGE = 24 * 3600


def min_submit_seconds() -> float:
    return float(getattr(settings, "PORTAL_MIN_SUBMIT_SECONDS", 3))


def form_stamp(tenant_id: int) -> str:
    """A signed (render time, tenant, nonce) for a public form's hidden field."""
    return signing.dumps({"t": time.time(), "k": tenant_id, "n": secrets.token_hex(8)}, salt=_FORM_SALT,
                         compress=False)


def form_stamp_problem(value: str, tenant_id: int) -> str | None:
    """None when the form was rendered by us for this tenant between a few seconds and a day
    ago and not sent before; else which check failed."""
    try:
        data = signing.loads(value or "", salt=_FORM_SALT, max_age=FORM_MAX_AGE + 60)
    except signing.SignatureExpired:
        return FORM_EXPIRED
    except signing.BadSignature:
        return FORM_INVALID
    if not isinstance(data, dict) or data.get("k") != tenant_id or not isinstance(data.get("t"), (int, float)):
        return FORM_INVALID
    age = time.time() - data["t"]
    if age > FORM_MAX_AGE:
        return FORM_EXPIRED
    if age < min_submit_seconds():
        return FORM_TOO_FAST
    if cache.get(_nonce_key(data)) is not None:
        return FORM_REPLAYED
    return None


def form_stamp_spend(value: str) -> None:
    """Remember that the form was sent, so a resend of the same page is not a second request."""
    try:
        data = signing.loads(value or "", salt=_FORM_SALT, max_age=FORM_MAX_AGE + 60)
    except signing.BadSignature:
        return
    cache.set(_nonce_key(data), 1, timeout=FORM_MAX_AGE + 120)


def _nonce_key(data: dict) -> str:
    return f"portal:form:{data.get('k')}:{data.get('n')}"
