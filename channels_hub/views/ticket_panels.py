"""The delivery panels of the ticket page: what became of our mails (``email``) and of the
replies sent to a bridge (``connector``).

Tickets cannot import channels_hub (DESIGN.md, dependencies), so the ticket page renders
each panel through a template tag (``channels_hub.templatetags``) inside an always-present
live container; when a delivery changes, the page hears of it over its websocket
(``channels_hub.services.live``) and fetches the panel again from these views. Tag and view
load the panel the same way (``TicketPanel.context``, reading ``channels_hub.selectors``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.generic.detail import SingleObjectMixin

from channels_hub import selectors
from channels_hub.services.live import CONNECTOR_DELIVERY_CHANGED, EMAIL_DELIVERY_CHANGED
from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.tenancy.roles import Cap
from tickets.models import Ticket


@dataclass(frozen=True)
class TicketPanel:
    key: str  # in the container's id and the fragment's URL name
    template: str
    event: str  # the websocket frame that makes the page fetch the panel again
    load: Callable[[Ticket], dict]

    def context(self, ticket: Ticket) -> dict:
        return {**self.load(ticket), "ticket": ticket}

    def shell(self, ticket: Ticket | None) -> dict:
        """The live container with the panel inside, as the ticket page renders it."""
        if ticket is None:
            return {"panel": None}
        return {**self.context(ticket), "panel": self,
                "panel_url": reverse(f"channels:ticket_{self.key}_panel", args=[ticket.number])}


EMAIL = TicketPanel(
    key="email", template="console/tickets/_email_deliveries.html", event=EMAIL_DELIVERY_CHANGED,
    load=lambda ticket: {"deliveries": selectors.ticket_email_deliveries(ticket=ticket)})
CONNECTOR = TicketPanel(
    key="connector", template="console/tickets/_connector_target.html", event=CONNECTOR_DELIVERY_CHANGED,
    load=lambda ticket: {"target": selectors.ticket_reply_target(ticket=ticket)})


class TicketPanelView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """One panel of one of the tenant's tickets, by its number, as a fragment. Whoever may
    see the ticket may see its panels (``tickets.view``, as the ticket page); another
    tenant's ticket is a 404 like a missing one."""

    capability = Cap.TICKETS_VIEW
    model = Ticket
    slug_field = "number"
    slug_url_kwarg = "number"
    panel: TicketPanel | None = None

    def safely_get_queryset(self, queryset):
        return queryset.only("id", "tenant_id", "number")

    def get(self, request, number: int):
        panel = self.panel
        response = TemplateResponse(request, panel.template, panel.context(self.get_object()))
        response["Cache-Control"] = "no-store"
        return response
