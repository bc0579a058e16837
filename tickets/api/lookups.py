"""Writable relations of API input, looked up inside the request's tenant.

An id of another tenant's row is simply unknown here: a 400 naming the field, never a
hint that the row exists.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from helpdesk.people.models import Contact, Team
from helpdesk.tenancy.models import Membership, Tenant
from tickets.models import ContactReason, Message, Ticket


def _missing(field: str, message: str | None = None) -> ValidationError:
    return ValidationError({field: [message or _("Unknown id.")]})


def member(*, tenant: Tenant, user_id: int | None, field: str = "assignee_id") -> Any:
    if user_id is None:
        return None
    membership = (Membership.objects.filter(tenant=tenant, user_id=user_id, is_active=True)
                  .select_related("user").first())
    if membership is None:
        raise _missing(field, _("No active member of this helpdesk has this id."))
    return membership.user


def team(*, tenant: Tenant, team_id: int | None, field: str = "team_id") -> Team | None:
    if team_id is None:
        return None
    found = Team.objects.filter(tenant=tenant, pk=team_id).first()
    if found is None:
        raise _missing(field)
    return found


def contact(*, tenant: Tenant, contact_id: int, field: str = "requester_id") -> Contact:
    found = Contact.objects.filter(tenant=tenant, pk=contact_id).first()
    if found is None:
        raise _missing(field)
    return found


def contact_reason(*, tenant: Tenant, reason_id: int | None, field: str = "contact_reason_id") -> ContactReason | None:
    if reason_id is None:
        return None
    found = ContactReason.objects.filter(tenant=tenant, pk=reason_id).first()
    if found is None:
        raise _missing(field)
    return found


def ticket(*, tenant: Tenant, ticket_id: int | None, field: str = "ticket_id") -> Ticket | None:
    if ticket_id is None:
        return None
    found = Ticket.objects.filter(tenant=tenant, pk=ticket_id).select_related("tenant").first()
    if found is None:
        raise _missing(field)
    return found


def tickets(*, tenant: Tenant, ticket_ids: list[int], field: str = "ticket_ids") -> list[Ticket]:
    found = {t.pk: t for t in Ticket.objects.filter(tenant=tenant, pk__in=ticket_ids).select_related("tenant")}
    missing = [i for i in ticket_ids if i not in found]
    if missing:
        raise _missing(field, _("Unknown tickets: %(ids)s.") % {"ids": ", ".join(map(str, missing))})
    return [found[i] for i in dict.fromkeys(ticket_ids)]


def message(*, ticket: Ticket, message_id: int, field: str = "message_id") -> Message:
    found = Message.objects.filter(ticket=ticket, pk=message_id).select_related("tenant").first()
    if found is None:
        raise _missing(field)
    return found


def user_model():
    return get_user_model()
