"""Customer data integrations: the tenant's own shop or CRM, asked about a contact for the card.

The protocol (what a tenant's developer implements; also in the settings page's help):

* The helpdesk POSTs ``{"contact": {"id", "name", "identities": [{"kind", "provider",
  "value"}], "organization": {"id", "name"} | null}}`` as JSON to the integration's URL.
* ``X-Helpdesk-Timestamp`` is the Unix time of the call; ``X-Helpdesk-Signature`` is
  ``sha256=`` + the hex HMAC-SHA256, with the integration's secret, of
  ``"<timestamp>." + <raw body>`` (the outbound webhooks' signing function over the
  timestamped body, so a captured call cannot be replayed later: reject old timestamps).
* The answer is JSON, at most 256 KB, of this shape (anything else is left out)::

      {"title": "Orders",
       "sections": [{"title": "Plan",
                     "fields": [{"label": "Plan", "value": "Gold", "url": "https://…"}],
                     "table": {"columns": ["Order", "Total"],
                               "rows": [["#1001", "€30"], [{"value": "#1002", "url": "https://…"}, "€12"]]}}]}

  Values are text, numbers, booleans or null; every value is shown escaped (the shop's
  HTML never runs in an agent's browser); links are kept only when they are http or
  https. A 404 answer means "no records for this customer".

Calls are short (the integration's ``timeout_ms`` for the whole exchange), never follow
redirects, and go only to public addresses unless ``INTEGRATIONS_ALLOW_PRIVATE`` is on (the
SSRF guard of the outbound webhooks: every address the host resolves to is checked, and
the connection goes to a checked address). Results are cached per (tenant, integration,
contact) for ``cache_seconds``; failures briefly, so a shop that is down is not called by
every agent that opens a ticket. A failure is a result with a polite notice, never an
exception.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.events import webhooks
from helpdesk.people.integration_panel import (  # noqa: F401 - part of this module's interface
    MAX_COLUMNS,
    MAX_FIELDS,
    MAX_ROWS,
    MAX_SECTIONS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    PanelShapeError,
    parse_panel,
    safe_url,
)
from helpdesk.people.models import Contact, CustomerDataIntegration, IdentityKind
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant

SIGNATURE_HEADER = "X-Helpdesk-Signature"
TIMESTAMP_HEADER = "X-Helpdesk-Timestamp"
USER_AGENT = "Helpdesk-Integrations/1.0"

MAX_BODY_BYTES = 256 * 1024
MIN_TIMEOUT_MS, MAX_TIMEOUT_MS = 100, 10_000
MAX_CACHE_SECONDS = 86_400
# Failures are remembered this long at most (and never longer than successes would be).
FAILURE_CACHE_SECONDS = 30
MIN_FAILURE_CACHE_SECONDS = 5
SECRET_MIN_LENGTH = 16
MAX_PARALLEL_CALLS = 4


@dataclass(frozen=True)
class IntegrationResult:
    """What one integration said about one contact, ready for the panel.

    ``panel`` is the normalised answer (see ``parse_panel``) when ``ok``; otherwise
    ``notice`` is the polite line for agents and ``detail`` says why (for administrators).
    """

    integration_id: int
    name: str
    ok: bool
    panel: dict | None = None
    reason: str = ""
    notice: str = ""
    detail: str = ""
    cached: bool = False
    duration_ms: int = 0
    empty: bool = field(default=False)


# --- the call ---------------------------------------------------------------------------


def contact_document(contact: Contact) -> dict:
    """What the integration is told about the contact (uses prefetched identities when present)."""
    identities = sorted(contact.identities.all(), key=lambda i: (not i.is_primary, i.kind, i.pk))
    organization = contact.organization
    return {"contact": {
        "id": contact.pk,
        "name": contact.name,
        "identities": [{"kind": i.kind, "provider": i.provider, "value": i.value} for i in identities],
        "organization": {"id": organization.pk, "name": organization.name} if organization else None,
    }}


def sample_document() -> dict:
    """A made-up contact for trying an integration before real customers reach it."""
    return {"contact": {
        "id": 0,
        "name": "Ada Sample",
        "identities": [{"kind": IdentityKind.EMAIL.value, "provider": "", "value": "ada.sample@example.com"},
                       {"kind": IdentityKind.PHONE.value, "provider": "", "value": "+905551112233"}],
        "organization": None,
    }}


def encode_body(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(*, secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The request headers; the signature covers ``"<timestamp>." + body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT,
               TIMESTAMP_HEADER: stamp}
    if secret:
        headers[SIGNATURE_HEADER] = webhooks.sign(secret, stamp.encode() + b"." + body)
    return headers


def verify_signature(*, secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """What the tenant's shop does (and the tests): constant-time comparison."""
    return webhooks.verify(secret, (timestamp or "").encode() + b"." + body, signature)


@dataclass(frozen=True)
class _Outcome:
    """The network's verdict, before any translation (safe to compute on a worker thread)."""

    code: str  # "ok", "not_found" or a failure reason
    params: dict = field(default_factory=dict)
    body: bytes = b""
    duration_ms: int = 0


def _guard(url: str, allow_private: bool) -> tuple[str, str, int, str, list] | _Outcome:
    try:
        scheme, host, port, path = webhooks.parse_target(url)
    except webhooks.TargetRefused:
        return _Outcome("invalid_url")
    try:
        addresses = webhooks.resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        return _Outcome("unresolvable", {"host": host})
    if not allow_private:
        for address in addresses:
            if webhooks.address_refusal(address):
                return _Outcome("private", {"host": host, "address": str(address)})
    return scheme, host, port, path, addresses


def _post(*, url: str, body: bytes, headers: dict[str, str], timeout_ms: int, allow_private: bool) -> _Outcome:
    """POST once within ``timeout_ms`` overall; never raises for network trouble."""
    started = time.monotonic()
    timeout = max(MIN_TIMEOUT_MS, min(MAX_TIMEOUT_MS, timeout_ms)) / 1000
    deadline = started + timeout

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline")
        return left

    target = _guard(url, allow_private)
    if isinstance(target, _Outcome):
        return target
    scheme, host, port, path, addresses = target
    conn: http.client.HTTPConnection | None = None
    try:
        # The webhooks' pinned connection: TCP goes to the addresses just checked (no rebinding).
        conn = webhooks._pinned_connection(scheme, host, port, addresses, remaining())
        conn.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        if conn.sock is not None:
            conn.sock.settimeout(remaining())
        response = conn.getresponse()
        status = response.status
        if 300 <= status < 400:
            return _Outcome("redirect", {"status": status}, duration_ms=elapsed())
        if status == 404:
            return _Outcome("not_found", duration_ms=elapsed())
        if not 200 <= status < 300:
            return _Outcome("http_status", {"status": status}, duration_ms=elapsed())
        declared = response.getheader("Content-Length") or ""
        if declared.strip().isdigit() and int(declared) > MAX_BODY_BYTES:
            return _Outcome("too_large", duration_ms=elapsed())
        chunks, size = [], 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(remaining())
            chunk = response.read1(64 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return _Outcome("too_large", duration_ms=elapsed())
            chunks.append(chunk)
        if response.length:  # the connection closed before the declared Content-Length
            return _Outcome("connection", {"error": "IncompleteRead"}, duration_ms=elapsed())
        return _Outcome("ok", body=b"".join(chunks), duration_ms=elapsed())
    except (socket.timeout, TimeoutError):
        return _Outcome("timeout", {"ms": int(timeout * 1000)}, duration_ms=elapsed())
    except ConnectionRefusedError:
        return _Outcome("refused", duration_ms=elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return _Outcome("connection", {"error": type(exc).__name__}, duration_ms=elapsed())
    finally:
        if conn is not None:
            conn.close()


def _call(integration_id: int, url: str, secret: str, timeout_ms: int, body: bytes, allow_private: bool,
          language: str | None) -> _Outcome:
    with translation.override(language):
        return _post(url=url, body=body, headers=signed_headers(secret=secret, body=body),
                     timeout_ms=timeout_ms, allow_private=allow_private)


# --- from the outcome to what the panel shows -------------------------------------------------


def _failure_detail(code: str, params: dict) -> str:
    if code == "private":
        try:
            label = webhooks.address_refusal(ipaddress.ip_address(params.get("address", ""))) or ""
        except ValueError:
            label = ""
        return _("%(host)s resolves to %(label)s (%(address)s); integrations may only call public addresses.") % {
            "host": params.get("host", ""), "label": label or _("a non-public address"),
            "address": params.get("address", "")}
    messages = {
        "invalid_url": lambda: _("The URL is not a valid http or https URL."),
        "unresolvable": lambda: _("The host name %(host)s could not be resolved.") % {"host": params.get("host", "")},
        "timeout": lambda: _("No answer within %(ms)d ms.") % {"ms": params.get("ms", 0)},
        "refused": lambda: _("The connection was refused."),
        "connection": lambda: _("The connection failed (%(error)s).") % {"error": params.get("error", "")},
        "redirect": lambda: _("It answered with a redirect (HTTP %(status)d); redirects are not followed.")
        % {"status": params.get("status", 0)},
        "http_status": lambda: _("It answered with HTTP %(status)d.") % {"status": params.get("status", 0)},
        "too_large": lambda: _("Its answer was larger than %(kb)d KB.") % {"kb": MAX_BODY_BYTES // 1024},
        "bad_json": lambda: _("Its answer was not valid JSON."),
        "bad_shape": lambda: _('Its answer was not a panel (an object with "title" and "sections").'),
    }
    return messages.get(code, lambda: _("It could not be reached."))()


def _stored(outcome: _Outcome) -> dict:
    """The cacheable form of an outcome: the parsed panel, or the failure's code and params."""
    if outcome.code == "not_found":
        return {"ok": True, "panel": {"title": "", "sections": []}, "ms": outcome.duration_ms}
    if outcome.code != "ok":
        return {"ok": False, "reason": outcome.code, "params": outcome.params, "ms": outcome.duration_ms}
    try:
        document = json.loads(outcome.body)
    except (ValueError, RecursionError):
        return {"ok": False, "reason": "bad_json", "params": {}, "ms": outcome.duration_ms}
    try:
        panel = parse_panel(document)
    except (PanelShapeError, RecursionError):
        return {"ok": False, "reason": "bad_shape", "params": {}, "ms": outcome.duration_ms}
    return {"ok": True, "panel": panel, "ms": outcome.duration_ms}


def _result(integration: CustomerDataIntegration, stored: dict, *, cached: bool) -> IntegrationResult:
    if stored.get("ok"):
        panel = stored.get("panel") or {"title": "", "sections": []}
        return IntegrationResult(integration_id=integration.pk, name=integration.name, ok=True, panel=panel,
                                 cached=cached, duration_ms=stored.get("ms", 0), empty=not panel["sections"])
    reason = stored.get("reason", "")
    return IntegrationResult(
        integration_id=integration.pk, name=integration.name, ok=False, reason=reason,
        notice=_("%(name)s could not be reached just now. Everything else on this page works as usual; "
                 "try again in a moment.") % {"name": integration.name},
        detail=_failure_detail(reason, stored.get("params") or {}), cached=cached,
        duration_ms=stored.get("ms", 0))


def cache_key(*, tenant_id: int, integration: CustomerDataIntegration, contact_id: int) -> str:
    """Per (tenant, integration, contact); a changed URL or secret starts afresh."""
    # Keyed with SECRET_KEY: the cache key says nothing about the signing secret.
    version = salted_hmac("people.integration.cache", f"{integration.url}\0{integration.secret}").hexdigest()[:16]
    return f"people:integration:{tenant_id}:{integration.pk}:{contact_id}:{version}"


def failure_ttl(integration: CustomerDataIntegration) -> int:
    return max(MIN_FAILURE_CACHE_SECONDS, min(FAILURE_CACHE_SECONDS, integration.cache_seconds))


def _run(calls: list[tuple[CustomerDataIntegration, bytes]]) -> list[_Outcome]:
    """Call the integrations in parallel (network only: no database, no cache on the workers)."""
    allow_private = bool(settings.INTEGRATIONS_ALLOW_PRIVATE)
    language = translation.get_language()
    args = [(i.pk, i.url, i.secret, i.timeout_ms, body, allow_private, language) for i, body in calls]
    if len(args) == 1:
        return [_call(*args[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CALLS, len(args))) as pool:
        return list(pool.map(lambda a: _call(*a), args))


def active_integrations(*, tenant: Tenant) -> list[CustomerDataIntegration]:
    with tenant_scope(tenant):
        return list(CustomerDataIntegration.objects.filter(tenant=tenant, is_active=True).order_by("name", "id"))


def integration_fetch(*, tenant: Tenant, contact: Contact) -> list[IntegrationResult]:
    """What each active integration of ``tenant`` says about ``contact``, in name order.

    Cached answers are used when present (one cache round trip for all); the rest are
    called in parallel, each within its own timeout. Never raises for an integration's
    failure: that is a result with a notice. ``contact`` must belong to ``tenant``.
    """
    if contact.tenant_id != tenant.pk:
        raise ValueError("the contact belongs to another tenant")
    integrations = active_integrations(tenant=tenant)
    if not integrations:
        return []
    keys = {i.pk: cache_key(tenant_id=tenant.pk, integration=i, contact_id=contact.pk) for i in integrations}
    hits = cache.get_many(list(keys.values()))
    missing = [i for i in integrations if keys[i.pk] not in hits]
    fresh: dict[int, dict] = {}
    if missing:
        with tenant_scope(tenant):
            body = encode_body(contact_document(contact))
        outcomes = _run([(integration, body) for integration in missing])
        to_cache_ok, to_cache_failed = {}, []
        for integration, outcome in zip(missing, outcomes):
            stored = _stored(outcome)
            fresh[integration.pk] = stored
            if stored["ok"]:
                if integration.cache_seconds:
                    to_cache_ok.setdefault(integration.cache_seconds, {})[keys[integration.pk]] = stored
            else:
                to_cache_failed.append((keys[integration.pk], stored, failure_ttl(integration)))
        for ttl, values in to_cache_ok.items():
            cache.set_many(values, timeout=ttl)
        for key, stored, ttl in to_cache_failed:
            cache.set(key, stored, timeout=ttl)
    results = []
    for integration in integrations:
        if integration.pk in fresh:
            results.append(_result(integration, fresh[integration.pk], cached=False))
        else:
            results.append(_result(integration, hits[keys[integration.pk]], cached=True))
    return results


def integration_test(*, integration: CustomerDataIntegration, contact: Contact | None = None) -> IntegrationResult:
    """Call ``integration`` now (no cache, whether active or not) for ``contact`` or a sample
    contact, so an administrator sees exactly what agents would see, or why not."""
    if contact is not None:
        if contact.tenant_id != integration.tenant_id:
            raise ValueError("the contact belongs to another tenant")
        with tenant_scope(integration.tenant):
            document = contact_document(contact)
    else:
        document = sample_document()
    outcome = _run([(integration, encode_body(document))])[0]
    return _result(integration, _stored(outcome), cached=False)


# --- managing integrations ---------------------------------------------------------------------


def integration_public_data(integration: CustomerDataIntegration) -> dict:
    """What audit entries say about an integration (never its secret)."""
    return {"id": integration.pk, "name": integration.name, "url": integration.url,
            "timeout_ms": integration.timeout_ms, "cache_seconds": integration.cache_seconds,
            "is_active": integration.is_active}


def check_integration_url(url: str) -> str:
    """The cleaned URL, or ValidationError: http(s), a host that resolves, public unless allowed."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": [_("Enter the URL the helpdesk calls.")]})
    if len(url) > 500:
        raise ValidationError({"url": [_("The URL is longer than 500 characters.")]})
    target = _guard(url, bool(settings.INTEGRATIONS_ALLOW_PRIVATE))
    if isinstance(target, _Outcome):
        raise ValidationError({"url": [_failure_detail(target.code, target.params)]})
    return url


def _clean(values: dict, *, creating: bool) -> dict:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "name" in values or creating:
        name = str(values.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the integration a name.")]
        elif len(name) > 100:
            errors["name"] = [_("Use at most %(count)d characters.") % {"count": 100}]
        cleaned["name"] = name
    if "url" in values or creating:
        try:
            cleaned["url"] = check_integration_url(values.get("url") or "")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    secret = values.get("secret")
    if secret or creating:
        secret = str(secret or "")
        if len(secret) < SECRET_MIN_LENGTH:
            errors["secret"] = [_("Use a signing secret of at least %(count)d characters.")
                                % {"count": SECRET_MIN_LENGTH}]
        elif len(secret) > 200:
            errors["secret"] = [_("Use at most %(count)d characters.") % {"count": 200}]
        cleaned["secret"] = secret
    for name, low, high in (("timeout_ms", MIN_TIMEOUT_MS, MAX_TIMEOUT_MS), ("cache_seconds", 0, MAX_CACHE_SECONDS)):
        if values.get(name) is None:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = [_("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}]
        else:
            cleaned[name] = value
    if values.get("is_active") is not None:
        cleaned["is_active"] = bool(values["is_active"])
    if errors:
        raise ValidationError(errors)
    return cleaned


def _unique_name_error() -> ValidationError:
    return ValidationError({"name": [_("Another integration already has this name.")]})


def integration_create(*, tenant: Tenant, actor: Any = None, audit_meta: Mapping[str, Any] | None = None,
                       name: str, url: str, secret: str, timeout_ms: int | None = None,
                       cache_seconds: int | None = None, is_active: bool | None = None) -> CustomerDataIntegration:
    """Add an integration. The URL passes the SSRF guard now (and again at every call)."""
    values = _clean({"name": name, "url": url, "secret": secret, "timeout_ms": timeout_ms,
                     "cache_seconds": cache_seconds, "is_active": is_active}, creating=True)
    with tenant_scope(tenant):
        if CustomerDataIntegration.objects.filter(tenant=tenant, name=values["name"]).exists():
            raise _unique_name_error()
        try:
            with transaction.atomic():
                integration = CustomerDataIntegration.objects.create(tenant=tenant, **values)
                audit_record(tenant=tenant, action="integration.created", actor=actor, obj=integration,
                             after=integration_public_data(integration), **(audit_meta or {}))
        except IntegrityError:
            raise _unique_name_error() from None
    return integration


def integration_update(*, integration: CustomerDataIntegration, actor: Any = None,
                       audit_meta: Mapping[str, Any] | None = None, **changes: Any) -> CustomerDataIntegration:
    """Change what is given (None leaves a field alone; a blank secret keeps the old one)."""
    unknown = set(changes) - {"name", "url", "secret", "timeout_ms", "cache_seconds", "is_active"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    tenant = integration.tenant
    with tenant_scope(tenant):
        stored = CustomerDataIntegration.objects.get(pk=integration.pk)
        values = _clean({k: v for k, v in changes.items() if v is not None}, creating=False)
        values = {k: v for k, v in values.items() if getattr(stored, k) != v}
        if not values:
            return stored
        if "name" in values and CustomerDataIntegration.objects.filter(
                tenant=tenant, name=values["name"]).exclude(pk=stored.pk).exists():
            raise _unique_name_error()
        try:
            with transaction.atomic():
                stored = CustomerDataIntegration.objects.select_for_update().get(pk=integration.pk)
                before = {k: getattr(stored, k) for k in values if k != "secret"}
                for name, value in values.items():
                    setattr(stored, name, value)
                stored.save(update_fields=list(values))
                after = {k: v for k, v in values.items() if k != "secret"}
                if "secret" in values:
                    before["secret"] = after["secret"] = "***"
                audit_record(tenant=tenant, action="integration.updated", actor=actor, obj=stored,
                             before=before, after=after, **(audit_meta or {}))
        except IntegrityError:
            raise _unique_name_error() from None
    return stored


def integration_delete(*, integration: CustomerDataIntegration, actor: Any = None,
                       audit_meta: Mapping[str, Any] | None = None) -> None:
    tenant = integration.tenant
    with transaction.atomic(), tenant_scope(tenant):
        audit_record(tenant=tenant, action="integration.deleted", actor=actor, obj=integration,
                     before=integration_public_data(integration), **(audit_meta or {}))
        integration.delete()
