"""Reads of the request portal: which requests a customer may see, and their public conversation.

A customer sees a request when they are its requester, one of its CCs, or (when the tenant
allows it) a member of its organization. Everything else is a 404, never a 403.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from channels_hub.models import PortalAccount, PortalSettings
from tickets.models import Attachment, Message, MessageKind, Status, Ticket, TicketCC
from tickets.views.presenters import message_content  # the console's second allowlist on the way out

MINE = "mine"
CC = "cc"
ORGANIZATION = "organization"
PAGE_SIZE = 25

# What a customer reads for each status (SPEC §1: on-hold is shown as open).
CUSTOMER_STATUS = {
    Status.NEW: _("Open"),
    Status.OPEN: _("Open"),
    Status.PENDING: _("Awaiting your reply"),
    Status.ON_HOLD: _("Open"),
    Status.SOLVED: _("Solved"),
    Status.CLOSED: _("Closed"),
}
CUSTOMER_STATUS_CLASS = {Status.NEW: "open", Status.OPEN: "open", Status.PENDING: "pending",
                         Status.ON_HOLD: "open", Status.SOLVED: "solved", Status.CLOSED: "closed"}


def customer_status(status: str) -> str:
    return str(CUSTOMER_STATUS.get(status, _("Open")))


def organization_allowed(*, account: PortalAccount, settings: PortalSettings) -> bool:
    return bool(settings.organization_requests and account.contact.organization_id)


def scopes_for(*, account: PortalAccount, settings: PortalSettings) -> list[str]:
    scopes = [MINE, CC]
    if organization_allowed(account=account, settings=settings):
        scopes.append(ORGANIZATION)
    return scopes


def _cc_of(contact_id: int):
    return Exists(TicketCC.objects.filter(ticket=OuterRef("pk"), contact_id=contact_id))


def visible_tickets(*, account: PortalAccount, settings: PortalSettings) -> QuerySet[Ticket]:
    """Every request this customer may open (requester, CC, or organization when allowed)."""
    contact = account.contact
    allowed = Q(requester_id=contact.pk) | Q(_cc_of(contact.pk))
    if organization_allowed(account=account, settings=settings):
        allowed |= Q(organization_id=contact.organization_id)
    return Ticket.objects.filter(tenant_id=account.tenant_id).filter(allowed)


def request_list(*, account: PortalAccount, settings: PortalSettings, scope: str,
                 page: int = 1) -> tuple[list[Ticket], bool]:
    """One page of a list (newest first) and whether another page follows: one query, no
    ``COUNT`` (organization lists can be long)."""
    contact = account.contact
    qs = Ticket.objects.filter(tenant_id=account.tenant_id)
    if scope == CC:
        qs = qs.filter(_cc_of(contact.pk))
    elif scope == ORGANIZATION and organization_allowed(account=account, settings=settings):
        qs = qs.filter(organization_id=contact.organization_id)
    else:
        qs = qs.filter(requester_id=contact.pk)
    page = max(1, page)
    offset = (page - 1) * PAGE_SIZE
    rows = list(qs.select_related("requester")
                .only("pk", "number", "subject", "status", "created_at", "updated_at", "last_activity_at",
                      "requester_id", "requester__name", "tenant_id")
                .order_by("-created_at", "-id")[offset:offset + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def request_get(*, account: PortalAccount, settings: PortalSettings, number: int) -> Ticket | None:
    return (visible_tickets(account=account, settings=settings).select_related("requester", "tenant")
            .filter(number=number).first())


def request_merged_into(*, account: PortalAccount, settings: PortalSettings, ticket: Ticket) -> Ticket | None:
    """The request ``ticket`` was merged into, if this customer may see it."""
    if ticket.merged_into_id is None:
        return None
    return visible_tickets(account=account, settings=settings).filter(pk=ticket.merged_into_id).first()


@dataclass(frozen=True)
class Entry:
    message: Message
    author: str
    from_customer: bool
    attachments: list[Attachment]
    body: str


def agent_first_name(user, fallback: str) -> str:
    """Agents appear to customers by first name only (never their email address)."""
    name = (getattr(user, "full_name", "") or "").split()
    return name[0] if name else fallback


def public_conversation(*, ticket: Ticket, image_url: Callable[[Attachment], str]) -> list[Entry]:
    """The public messages of the request, oldest first: never internal notes, system
    entries or side conversations (two queries, however long the conversation). The images
    a body shows load from ``image_url`` (the portal's own, customer-authorised link)."""
    messages = (Message.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, kind=MessageKind.PUBLIC,
                                       side_conversation__isnull=True)
                .select_related("author_user", "author_contact")
                .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
                .order_by("created_at", "id"))
    brand = ticket.tenant.brand_name or ticket.tenant.name
    entries = []
    for message in messages:
        if message.author_contact_id:
            author, customer = message.author_contact.name or str(_("Customer")), True
        elif message.author_user_id:
            author, customer = agent_first_name(message.author_user, brand), False
        else:
            author, customer = brand, False
        content = message_content(message, image_url=image_url)
        entries.append(Entry(message=message, author=author, from_customer=customer,
                             attachments=content.attachments, body=content.body))
    return entries


def public_attachment(*, ticket: Ticket, token: str) -> Attachment | None:
    """A file of a public message of the request (not of a note or side conversation)."""
    return (Attachment.objects.filter(tenant_id=ticket.tenant_id, ticket=ticket, token=token,
                                      message__kind=MessageKind.PUBLIC, message__side_conversation__isnull=True)
            .first())
