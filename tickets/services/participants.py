"""Who else is on a ticket: followers (agents) and CCs (customers)."""
from __future__ import annotations

from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.people.models import Contact
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Cap
from tickets.models import Status, Ticket, TicketCC, TicketFollower
from tickets.services.common import TicketClosed, actor_label, record_change, require_capability
from tickets.services.tickets import MAX_CCS, lock_ticket


def ticket_follow(*, ticket: Ticket, user: Any, actor: Any, via: str) -> TicketFollower:
    """``user`` (a member who sees tickets) follows ``ticket``: notified of its replies.

    Following is the follower's own business, not a change of the case: no system entry,
    no version bump (it must not trip anyone's stale-reply guard).
    """
    tenant = ticket.tenant
    with transaction.atomic(), tenant_scope(tenant):
        if user != actor:
            require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        else:
            require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_VIEW, via=via,
                               scope="tickets:read")
        if not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
            raise ValidationError({"user_id": [_("Only members of this helpdesk can follow tickets.")]})
        follower, created = TicketFollower.objects.get_or_create(tenant=tenant, ticket=ticket, user=user)
        if created:
            audit_record(tenant=tenant, action="ticket.follower_added", actor=actor, actor_label=actor_label(actor),
                         obj=ticket, after={"user": user.pk})
        return follower


def ticket_unfollow(*, ticket: Ticket, user: Any, actor: Any, via: str) -> None:
    tenant = ticket.tenant
    with transaction.atomic(), tenant_scope(tenant):
        if user != actor:
            require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        deleted, _rows = TicketFollower.objects.filter(ticket=ticket, user=user).delete()
        if deleted:
            audit_record(tenant=tenant, action="ticket.follower_removed", actor=actor,
                         actor_label=actor_label(actor), obj=ticket, before={"user": user.pk})


def _cc_change(*, ticket: Ticket, actor, via, contact: Contact, added: bool, audit_meta) -> None:
    now = timezone.now()
    ticket.version += 1
    ticket.last_activity_at = now
    ticket.save(update_fields=["version", "last_activity_at", "updated_at"])
    label = contact.name or f"#{contact.pk}"
    record_change(ticket=ticket, actor=actor, via=via, at=now,
                  changes={"ccs": (None, contact.pk) if added else (contact.pk, None)},
                  readable_changes={"cc": (None, label) if added else (label, None)},
                  audit_action="ticket.cc_added" if added else "ticket.cc_removed", audit_meta=audit_meta)


def ticket_cc_add(*, ticket: Ticket, contact: Contact, actor: Any, via: str,
                  audit_meta: Mapping[str, Any] | None = None) -> TicketCC:
    """Copy ``contact`` on the ticket (idempotent). A CC receives public replies and may reply."""
    tenant = ticket.tenant
    if contact.tenant_id != tenant.pk:
        raise ValidationError({"contact": [_("Unknown contact.")]})
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        locked = lock_ticket(ticket)
        if locked.status == Status.CLOSED:
            raise TicketClosed(locked)
        if contact.pk == locked.requester_id:
            raise ValidationError({"contact": [_("The requester is on the ticket already.")]})
        existing = TicketCC.objects.filter(ticket=locked, contact=contact).first()
        if existing is not None:
            return existing
        if TicketCC.objects.filter(ticket=locked).count() >= MAX_CCS:
            raise ValidationError({"contact": [_("A ticket has at most %(max)d CCs.") % {"max": MAX_CCS}]})
        cc = TicketCC.objects.create(tenant=tenant, ticket=locked, contact=contact)
        _cc_change(ticket=locked, actor=actor, via=via, contact=contact, added=True, audit_meta=audit_meta)
        return cc


def ticket_ccs_add(*, ticket: Ticket, contacts: list[Contact], actor: Any, via: str,
                   audit_meta: Mapping[str, Any] | None = None) -> list[TicketCC]:
    """Copy several contacts at once (an email's new recipients): one change, one version,
    one system entry. The requester, contacts already copied and those beyond the limit
    are skipped; a closed ticket takes none (returns [])."""
    tenant = ticket.tenant
    wanted = list({c.pk: c for c in contacts if c.tenant_id == tenant.pk and c.pk != ticket.requester_id}.values())
    if not wanted:
        return []
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        locked = lock_ticket(ticket)
        if locked.status == Status.CLOSED:
            return []
        existing = set(TicketCC.objects.filter(ticket=locked).values_list("contact_id", flat=True))
        room = MAX_CCS - len(existing)
        new = [c for c in wanted if c.pk not in existing][:max(room, 0)]
        if not new:
            return []
        rows = TicketCC.objects.bulk_create([TicketCC(tenant=tenant, ticket=locked, contact=c) for c in new])
        now = timezone.now()
        locked.version += 1
        locked.last_activity_at = now
        locked.save(update_fields=["version", "last_activity_at", "updated_at"])
        labels = ", ".join(c.name or f"#{c.pk}" for c in new)
        record_change(ticket=locked, actor=actor, via=via, at=now,
                      changes={"ccs": (None, [c.pk for c in new])}, readable_changes={"cc": (None, labels)},
                      audit_action="ticket.cc_added", audit_meta=audit_meta)
        return rows


def ticket_cc_remove(*, ticket: Ticket, contact: Contact, actor: Any, via: str,
                     audit_meta: Mapping[str, Any] | None = None) -> None:
    tenant = ticket.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        locked = lock_ticket(ticket)
        if locked.status == Status.CLOSED:
            raise TicketClosed(locked)
        deleted, _rows = TicketCC.objects.filter(ticket=locked, contact=contact).delete()
        if deleted:
            _cc_change(ticket=locked, actor=actor, via=via, contact=contact, added=False, audit_meta=audit_meta)
