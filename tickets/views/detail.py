"""The ticket page: conversation, properties, requester card, reply box, macros, time, presence.

Every page of one ticket is addressed by the tenant's ticket ``number`` (what agents see and
say: "#1042"); the guarded base looks it up in the tenant's own tickets, so another tenant's
number is simply a 404.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.generic.detail import SingleObjectMixin

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.roles import Cap, role_has
from tickets.downloads import attachment_download
from tickets.models import Attachment, Message, MessageKind, Metric, Status, Ticket, TimerStatus
from tickets.selectors import ticket_tags
from tickets.sla.selectors import sla_summary
from tickets.views import presenters, queries
from tickets.views.forms import PropertiesForm, ReplyForm, TimeEntryForm
from tickets.views.list import sla_badge_template
from tickets.views.requester_card import requester_card

DRAFT_SESSION_KEY = "ticket-draft-{pk}"
ALL_MESSAGES_LIMIT = 2000


@dataclass
class Entry:
    """One conversation entry as the page shows it."""

    message: Message
    author: str
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    changes: list = field(default_factory=list)
    is_new: bool = False

    @property
    def kind(self) -> str:
        return self.message.kind


def inline_image_url(attachment: Attachment) -> str:
    """Where an agent's browser loads an image the body shows (``?inline=1``: shown, not saved)."""
    return reverse("tickets:attachment", args=[attachment.token]) + "?inline=1"


def entries_for(messages: list[Message], *, new_ids: frozenset[int] = frozenset()) -> list[Entry]:
    lines = presenters.change_lines(messages)
    entries = []
    for message in messages:
        content = presenters.message_content(message, image_url=inline_image_url)
        entries.append(Entry(
            message=message,
            author=presenters.author_name(message),
            body=content.body if message.kind != MessageKind.SYSTEM or message.body_text else "",
            attachments=content.attachments,
            changes=lines.get(message.pk, []),
            is_new=message.pk in new_ids,
        ))
    return entries


def sla_rows(ticket: Ticket) -> list[dict]:
    """The latest cycle of each SLA metric (from the prefetched timers), labelled for the page."""
    rows = []
    for item in sla_summary(ticket):
        rows.append({**item, "label": Metric(item["metric"]).label if item["metric"] in Metric.values
                     else item["metric"],
                     "status_label": TimerStatus(item["status"]).label if item["status"] in TimerStatus.values
                     else item["status"]})
    return rows


class TicketObjectView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """One ticket of the tenant, by its number."""

    model = Ticket
    slug_field = "number"
    slug_url_kwarg = "number"
    context_object_name = "ticket"

    def safely_get_queryset(self, queryset):
        return queries.with_detail(queryset)

    # --- what the person may do -----------------------------------------------------------

    def can(self, capability: str) -> bool:
        return role_has(self.request.membership.role, capability)

    # --- the page ---------------------------------------------------------------------------

    def render_ticket(self, ticket: Ticket, *, status: int = 200, reply_form: ReplyForm | None = None,
                      properties_form: PropertiesForm | None = None, time_form: TimeEntryForm | None = None,
                      new_ids: frozenset[int] = frozenset(), notice: str = "") -> TemplateResponse:
        request = self.request
        user = request.user
        can_edit = self.can(Cap.TICKETS_EDIT)
        can_reply = self.can(Cap.TICKETS_REPLY)
        can_note = self.can(Cap.TICKETS_NOTE)
        closed = ticket.status == Status.CLOSED
        show_all = request.GET.get("all") == "1"
        messages, has_earlier = queries.conversation(
            ticket=ticket, limit=ALL_MESSAGES_LIMIT if show_all else queries.MAX_MESSAGES)
        last_message_id = max((m.pk for m in messages), default=0)
        members = teams = reasons = fields = []
        if can_edit and not closed and properties_form is None:
            members, teams = queries.assignable_members(), queries.teams()
            reasons, fields = queries.contact_reasons(), queries.custom_fields()
            properties_form = PropertiesForm(ticket=ticket, members=members, teams=teams, reasons=reasons,
                                             fields=fields)
        if (can_reply or can_note) and not closed and reply_form is None:
            draft = request.session.pop(DRAFT_SESSION_KEY.format(pk=ticket.pk), None) or {}
            kind = draft.get("kind") if draft.get("kind") in (ReplyForm.PUBLIC, ReplyForm.NOTE) else None
            if not can_reply:
                kind = ReplyForm.NOTE
            reply_form = ReplyForm(can_reply=can_reply, initial={
                "body": draft.get("body", ""),
                "kind": kind or (ReplyForm.PUBLIC if can_reply else ReplyForm.NOTE),
                "expected_version": ticket.version,
                "last_message_id": last_message_id,
            })
        context = {
            "ticket": ticket,
            "entries": entries_for(messages, new_ids=new_ids),
            "has_earlier": has_earlier and not show_all,
            "last_message_id": last_message_id,
            "properties_form": properties_form,
            "reply_form": reply_form,
            "time_form": time_form or TimeEntryForm(),
            "macros": queries.macros_for(user=user) if can_edit and not closed else [],
            **requester_card(ticket=ticket, role=request.membership.role),
            "followers": [f.user for f in ticket.followers.all()],
            "is_following": queries.is_following(ticket=ticket, user=user),
            "tags": ticket_tags(ticket),
            "sla_timers": sla_rows(ticket),
            "sla_badge_template": sla_badge_template(),
            "handle_time": presenters.duration(ticket.handle_seconds),
            "time_entries": [(entry, presenters.duration(entry.seconds))
                             for entry in queries.recent_time_entries(ticket=ticket)],
            "can_edit": can_edit,
            "can_reply": can_reply,
            "can_note": can_note,
            "closed": closed,
            "notice": notice,
            "ws_path": f"/ws/tickets/{ticket.pk}/",
            "custom_values": self._custom_values(ticket, fields if can_edit else queries.custom_fields()),
            **queries.ticket_relations(ticket=ticket),
        }
        return TemplateResponse(request, "console/tickets/detail.html", context, status=status)

    @staticmethod
    def _custom_values(ticket: Ticket, fields) -> list[tuple[str, str]]:
        values = ticket.custom_fields or {}
        shown = []
        for definition in fields:
            value = values.get(definition.key)
            if value in (None, "", []):
                continue
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            elif isinstance(value, bool):
                value = gettext("Yes") if value else gettext("No")
            shown.append((definition.label, str(value)))
        return shown


class TicketDetailView(TicketObjectView):
    capability = Cap.TICKETS_VIEW

    def get(self, request, number):
        return self.render_ticket(self.get_object())


class TicketMessagesView(TicketObjectView):
    """The entries after ``?after=<message id>``, as a fragment the page appends when told
    (over the websocket) that the ticket has a new message."""

    capability = Cap.TICKETS_VIEW

    def safely_get_queryset(self, queryset):
        return queryset.only("id", "number", "version", "tenant_id")

    def get(self, request, number):
        ticket = self.get_object()
        try:
            after = int(request.GET.get("after", ""))
        except ValueError:
            return TemplateResponse(request, "console/tickets/_bad_request.html", {}, status=400)
        if not 0 <= after < 2**63:
            return TemplateResponse(request, "console/tickets/_bad_request.html", {}, status=400)
        messages, _earlier = queries.conversation(ticket=ticket, after_id=after)
        response = TemplateResponse(request, "console/tickets/_entries.html", {
            "entries": entries_for(messages, new_ids=frozenset(m.pk for m in messages)),
            "ticket": ticket,
        })
        response["X-Ticket-Version"] = str(ticket.version)
        response["X-Last-Message-Id"] = str(max((m.pk for m in messages), default=after))
        response["Cache-Control"] = "no-store"
        return response


class AttachmentDownloadView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """A file of a ticket, by its unguessable token: a download that never renders, or with
    ``?inline=1`` a raster image shown in a message body (``tickets.downloads``)."""

    capability = Cap.TICKETS_VIEW
    model = Attachment
    slug_field = "token"
    slug_url_kwarg = "token"

    def get(self, request, token):
        return attachment_download(self.get_object(), inline=request.GET.get("inline") == "1")
