"""Writes of the request portal: settings, accounts and sign-in links, requests, replies and
the requester solving their own request.

Customers are contacts, never users: every ticket change made here goes through the
tickets services with ``via=customer`` and no actor, so the rules of SPEC §1 (reopening,
follow-ups of closed tickets) are the ones every channel gets.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels_hub.models import OutboundKind, PortalAccount, PortalLink, PortalSettings
from channels_hub.services.acknowledgements import acknowledgement_queue
from channels_hub.services.outbox import AUTO_GENERATED, outbound_queue
from channels_hub.services.rendering import render_customer_email
from helpdesk.audit.services import audit_record
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.people.identities import normalize_email
from helpdesk.people.models import Contact, ContactIdentity, IdentityKind, Team
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Tenant
from knowledge.models import SessionOutcome
from knowledge.services.listening import session_outcome_record
from tickets.models import Channel, Message, Status, Ticket, Via
from tickets.services.common import TicketClosed, emit_ticket_event, raw_changes, readable, record_change
from tickets.services.messages import message_add
from tickets.services.tickets import contact_for_email, lock_ticket, ticket_create

LINK_LIFETIME = dt.timedelta(minutes=30)
# Statuses the requester may solve from (``closed`` is final, ``solved`` already is).
SOLVABLE = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# --- settings ----------------------------------------------------------------------------

def portal_settings_get(*, tenant: Tenant) -> PortalSettings:
    """The tenant's portal settings, made with the defaults when the tenant predates them."""
    with tenant_scope(tenant):
        row, _created = PortalSettings.objects.get_or_create(tenant=tenant)
    return row


PORTAL_SETTING_FIELDS = ("enabled", "organization_requests", "passwords")


def portal_settings_update(*, tenant: Tenant, actor: Any, values: Mapping[str, bool]) -> PortalSettings:
    """Change how the portal behaves (administrators; audited)."""
    from tickets.services.common import actor_label, require_settings_manage

    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        row = PortalSettings.objects.select_for_update().get(pk=portal_settings_get(tenant=tenant).pk)
        before = {name: getattr(row, name) for name in PORTAL_SETTING_FIELDS}
        for name in PORTAL_SETTING_FIELDS:
            if name in values:
                setattr(row, name, bool(values[name]))
        row.save()
        audit_record(tenant=tenant, action="portal.settings_changed", actor=actor, actor_label=actor_label(actor),
                     obj=row, before=before, after={name: getattr(row, name) for name in PORTAL_SETTING_FIELDS})
        return row


def portal_settings_create_default(tenant: Tenant) -> None:
    """Tenant defaults (``register_tenant_defaults``): the portal on, passwords allowed,
    organization requests private."""
    portal_settings_get(tenant=tenant)


# --- accounts and sign-in links ----------------------------------------------------------

def _contact_for_address(*, tenant: Tenant, email: str) -> Contact | None:
    identity = (ContactIdentity.objects.filter(tenant=tenant, kind=IdentityKind.EMAIL, value=email)
                .select_related("contact").first())
    return identity.contact if identity is not None else None


def account_for_contact(*, tenant: Tenant, contact: Contact, email: str) -> PortalAccount:
    """The contact's portal account, created on first use. An account left holding this
    address by another contact (the address moved in a merge) follows the address."""
    account = PortalAccount.objects.filter(tenant=tenant, contact=contact).first()
    if account is not None:
        return account
    stale = PortalAccount.objects.filter(tenant=tenant, email=email).first()
    if stale is not None:
        stale.contact = contact
        stale.password = ""  # a password set by someone else does not open this contact's requests
        stale.save(update_fields=["contact", "password"])
        return stale
    try:
        with transaction.atomic():
            return PortalAccount.objects.create(tenant=tenant, contact=contact, email=email)
    except IntegrityError:  # made at the same moment by another request
        return PortalAccount.objects.get(tenant=tenant, contact=contact)


def clean_next(next_url: str) -> str:
    next_url = (next_url or "").strip()
    if not next_url.startswith("/hc/") or next_url.startswith("//") or "\\" in next_url or len(next_url) > 300:
        return ""
    return next_url


def signin_link_issue(*, tenant: Tenant, email: str, next_url: str = "", language: str,
                      url_for_token) -> bool:
    """Mail a single-use sign-in link to ``email`` when it belongs to a contact of the tenant;
    True when one was queued. The caller answers the same either way (no enumeration).

    ``url_for_token(token) -> absolute URL``. Only the token's SHA-256 is stored.
    """
    try:
        email = normalize_email(email or "")
    except ValidationError:
        return False
    with transaction.atomic(), tenant_scope(tenant):
        contact = _contact_for_address(tenant=tenant, email=email)
        if contact is None:
            return False
        account = account_for_contact(tenant=tenant, contact=contact, email=email)
        token = secrets.token_urlsafe(32)
        PortalLink.objects.create(tenant=tenant, account=account, token_hash=token_hash(token),
                                  next_url=clean_next(next_url), expires_at=timezone.now() + LINK_LIFETIME)
        rendered = render_customer_email("portal_signin", tenant=tenant, language=language, context={
            "url": url_for_token(token), "minutes": int(LINK_LIFETIME.total_seconds() // 60),
            "contact_name": contact.name})
        queued = outbound_queue(tenant=tenant, kind=OutboundKind.PORTAL, to=[email], subject=rendered.subject,
                                text=rendered.text, html=rendered.html, auto_submitted=AUTO_GENERATED)
    return queued is not None


def _usable_links(*, tenant: Tenant, token: str):
    if not token or len(token) > 200:
        return PortalLink.objects.none()
    return PortalLink.objects.filter(tenant=tenant, token_hash=token_hash(token), used_at__isnull=True,
                                     expires_at__gt=timezone.now())


def signin_link_peek(*, tenant: Tenant, token: str) -> PortalLink | None:
    """The link if it would still sign in (unused, not expired), without using it: mail
    scanners that open links must not spend them."""
    with tenant_scope(tenant):
        return _usable_links(tenant=tenant, token=token).select_related("account").first()


def signin_link_redeem(*, tenant: Tenant, token: str, audit_meta: Mapping[str, Any] | None = None) -> PortalLink | None:
    """Spend the link and return it (its account signs in), or None when it is unknown, used,
    expired or another tenant's. Clicking it proves the address: the identity is verified."""
    with transaction.atomic(), tenant_scope(tenant):
        link = (_usable_links(tenant=tenant, token=token).select_for_update(of=("self",))
                .select_related("account", "account__contact").first())
        if link is None:
            return None
        now = timezone.now()
        link.used_at = now
        link.save(update_fields=["used_at"])
        account = link.account
        account.last_login_at = now
        account.save(update_fields=["last_login_at"])
        ContactIdentity.objects.filter(tenant=tenant, contact=account.contact_id, kind=IdentityKind.EMAIL,
                                       value=account.email, verified_at__isnull=True).update(verified_at=now)
        audit_record(tenant=tenant, action="portal.signed_in", actor_label=_customer_label(account.contact),
                     obj=account, after={"method": "link"}, **(audit_meta or {}))
        return link


# A hash to check against when the address has no password, so both answers take as long.
_DUMMY = "portal-no-password"


def account_authenticate(*, tenant: Tenant, email: str, password: str) -> PortalAccount | None:
    """The account with this address and password, or None (same work either way)."""
    try:
        email = normalize_email(email or "")
    except ValidationError:
        email = ""
    with tenant_scope(tenant):
        account = (PortalAccount.objects.filter(tenant=tenant, email=email).select_related("contact").first()
                   if email else None)
    if account is None or not account.password:
        make_password(password or _DUMMY)
        return None
    if not check_password(password or "", account.password):
        return None
    with tenant_scope(tenant):
        account.last_login_at = timezone.now()
        account.save(update_fields=["last_login_at"])
        audit_record(tenant=tenant, action="portal.signed_in", actor_label=_customer_label(account.contact),
                     obj=account, after={"method": "password"})
    return account


def account_password_set(*, account: PortalAccount, password: str, current_password: str = "",
                         audit_meta: Mapping[str, Any] | None = None) -> PortalAccount:
    """Set (or change: the current one is then required) the account's password, checked by
    the deployment's password validators and stored with Django's hashers."""
    tenant = account.tenant
    if not portal_settings_get(tenant=tenant).passwords:
        raise PermissionDenied(_("Passwords are turned off for this portal."))
    if account.password and not check_password(current_password or "", account.password):
        raise ValidationError({"current_password": [_("Your current password is not correct.")]})
    try:
        validate_password(password)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    with transaction.atomic(), tenant_scope(tenant):
        had = bool(account.password)
        account.password = make_password(password)
        account.save(update_fields=["password"])
        audit_record(tenant=tenant, action="portal.password_changed" if had else "portal.password_set",
                     actor_label=_customer_label(account.contact), obj=account, **(audit_meta or {}))
    return account


def _customer_label(contact: Contact) -> str:
    return _("%(name)s (customer)") % {"name": contact.name or f"#{contact.pk}"}


# --- requests ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    ticket: Ticket
    email: str
    signin_link_sent: bool


def request_submit(*, tenant: Tenant, account: PortalAccount | None, name: str, email: str, subject: str,
                   description: str, custom_fields: Mapping[str, Any] | None = None,
                   attachments: Iterable[Any] = (), language: str, url_for_token=None,
                   send_signin_link: bool = True, audit_meta: Mapping[str, Any] | None = None,
                   self_service_session: str | None = None, team: Team | None = None,
                   tags: Iterable[str] = (), business_hours: BusinessCalendar | None = None) -> Submitted:
    """A new request from the portal: a web ticket for the signed-in contact (or the
    contact at ``email``, made when new), its acknowledgement, and, for a visitor who is
    not signed in, a sign-in link to follow it. One transaction: a refusal writes nothing.

    ``self_service_session``: the visitor's help-center visit key (``hc_session`` cookie); a
    visit that searched or read articles and still ends here was not deflected.

    ``team``/``tags``/``business_hours``: where a request started from a service location's
    page goes and in whose hours it is answered (``knowledge.locations.routing.location_route``)."""
    with transaction.atomic(), tenant_scope(tenant):
        if account is not None:
            contact, email = account.contact, account.email
        else:
            contact = contact_for_email(tenant=tenant, email=email, name=name)
            email = normalize_email(email)
        ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, channel=Channel.WEB, subject=subject,
                               description=description, requester=contact, custom_fields=custom_fields or {},
                               attachments=list(attachments), language=language, audit_meta=audit_meta,
                               team=team, tags=list(tags), business_hours=business_hours)
        acknowledgement_queue(ticket=ticket, to=email)
        session_outcome_record(tenant=tenant, session_key=self_service_session, outcome=SessionOutcome.TICKET,
                               ticket_id=ticket.pk, contact_id=contact.pk)
        sent = False
        if account is None and send_signin_link and url_for_token is not None:
            sent = signin_link_issue(tenant=tenant, email=email, next_url=f"/hc/requests/{ticket.number}/",
                                     language=language, url_for_token=url_for_token)
    return Submitted(ticket=ticket, email=email, signin_link_sent=sent)


def request_reply(*, ticket: Ticket, contact: Contact, body: str, attachments: Iterable[Any] = (),
                  audit_meta: Mapping[str, Any] | None = None) -> Message:
    """The customer writes on their request (``message_add``: a pending, on-hold or solved
    request reopens; a closed one gets a follow-up, whose first message is returned)."""
    return message_add(ticket=ticket, actor=None, via=Via.CUSTOMER, body=body, public=True, author_contact=contact,
                       channel=Channel.WEB, attachments=list(attachments), audit_meta=audit_meta)


def request_solve_by_requester(*, ticket: Ticket, contact: Contact,
                               audit_meta: Mapping[str, Any] | None = None) -> Ticket:
    """The requester marks their own request solved.

    Not ``ticket_update``: SPEC §1 has an agent's solve need an assignee (the solver becomes
    one) and the required custom fields filled; those are the team's duties, and the
    customer saying "this is done" must work on an unassigned ticket too. Everything else is
    the same record of a change: the version goes up, a system entry says the customer solved
    it, the ``ticket.updated`` event (with ``solved_by_contact_id``) and an audit entry naming
    the customer are written, and the hooks run (SLA resolution is fulfilled; closing follows
    after the tenant's days).
    """
    tenant = ticket.tenant
    with transaction.atomic(), tenant_scope(tenant):
        locked = lock_ticket(ticket)
        if locked.requester_id != contact.pk:
            raise PermissionDenied(_("Only the requester can mark this request as solved."))
        if locked.status == Status.CLOSED:
            raise TicketClosed(locked)
        if locked.status == Status.SOLVED:
            return locked
        if locked.status not in SOLVABLE:
            raise ValidationError({"status": [_("This request cannot be marked as solved.")]})
        now = timezone.now()
        before = locked.status
        changes = {"status": (before, Status.SOLVED)}
        locked.status = Status.SOLVED
        locked.status_changed_at = now
        locked.solved_at = now
        locked.last_activity_at = now
        locked.version += 1
        locked.save()
        record_change(ticket=locked, actor=None, via=Via.CUSTOMER, at=now, changes=changes,
                      readable_changes=changes, text=_("The customer marked this request as solved."), emit=False)
        emit_ticket_event(ticket=locked, type="ticket.updated", actor=None, via=Via.CUSTOMER,
                          payload={"changes": raw_changes(changes), "message_id": None,
                                   "solved_by_contact_id": contact.pk})
        audit_record(tenant=tenant, action="ticket.solved_by_requester", actor_label=_customer_label(contact),
                     obj=locked, before={"status": readable(before)}, after={"status": Status.SOLVED.value},
                     **(audit_meta or {}))
    for field in ("status", "status_changed_at", "solved_at", "last_activity_at", "version"):
        setattr(ticket, field, getattr(locked, field))
    return locked
