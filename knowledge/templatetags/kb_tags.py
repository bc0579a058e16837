"""The help center's fragments on pages of lower apps: the ticket page shows articles beside
the ticket through this tag (tickets cannot import knowledge; DESIGN.md, dependencies)."""
from __future__ import annotations

from django import template
from django.urls import reverse

from helpdesk.tenancy.roles import Cap, role_has
from tickets.models import Status

register = template.Library()


@register.inclusion_tag("console/kb/answering/_ticket_panel.html", takes_context=True)
def kb_ticket_articles(context, ticket) -> dict:
    """The "Help center articles" panel of a ticket: its shell only (no query); the suggestions
    are fetched after the page (``kb:ticket_articles``). Nothing for people without ``kb.view``."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    role = getattr(membership, "role", None)
    if ticket is None or not role_has(role, Cap.KB_VIEW) or not role_has(role, Cap.TICKETS_VIEW):
        return {"show": False}
    can_create = role_has(role, Cap.KB_EDIT) and ticket.status in (Status.SOLVED, Status.CLOSED)
    return {
        "show": True,
        "ticket": ticket,
        "articles_url": reverse("kb:ticket_articles", args=[ticket.number]),
        "create_url": reverse("kb:article_from_ticket", args=[ticket.number]) if can_create else "",
    }
