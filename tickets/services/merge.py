"""Merge, split and link tickets; problems and their incidents."""
from __future__ import annotations

import logging
from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Cap
from tickets.models import (
    Attachment,
    LinkKind,
    Message,
    MessageKind,
    Status,
    Ticket,
    TicketCC,
    TicketFollower,
    TicketLink,
    Via,
)
from tickets.services.common import (
    AGENT_VIAS,
    TicketClosed,
    actor_label,
    emit_ticket_event,
    record_change,
    require_capability,
    system_message,
)
from tickets.services.tickets import lock_ticket, ticket_close, ticket_create

logger = logging.getLogger(__name__)

MAX_MERGE_SOURCES = 20


def _recount(ticket: Ticket) -> None:
    """Recompute the stored conversation counters from the messages (after moves)."""
    conversation = Message.objects.filter(ticket=ticket, side_conversation__isnull=True)
    agent_public = Q(kind=MessageKind.PUBLIC, author_user__isnull=False, via__in=AGENT_VIAS)
    stats = conversation.aggregate(
        messages=Count("id", filter=~Q(kind=MessageKind.SYSTEM)),
        last_customer=Max("created_at", filter=Q(kind=MessageKind.PUBLIC, author_contact__isnull=False)),
        first_reply=Min("created_at", filter=agent_public),
        last_reply=Max("created_at", filter=agent_public),
        replies=Count("id", filter=agent_public),
    )
    ticket.message_count = stats["messages"]
    ticket.last_customer_message_at = stats["last_customer"]
    ticket.first_reply_at = stats["first_reply"]
    ticket.last_agent_reply_at = stats["last_reply"]
    ticket.public_agent_reply_count = stats["replies"]


def ticket_merge(*, target: Ticket, sources: Iterable[Ticket], actor: Any, via: str,
                 audit_meta: Mapping[str, Any] | None = None) -> Ticket:
    """Merge ``sources`` into ``target`` (the survivor).

    The sources' public replies and notes (with their attachments) move to the target; the
    sources' requesters and CCs become the target's CCs, their followers its followers. Each
    source then points at the target (``merged_into``) and is closed by the system: a merge
    is a system action, so this is the one way an agent's request closes a ticket. Both
    sides get a system entry.
    """
    sources = list(sources)
    if not sources:
        raise ValidationError({"ticket_ids": [_("Name at least one ticket to merge.")]})
    if len(sources) > MAX_MERGE_SOURCES:
        raise ValidationError({"ticket_ids": [_("Merge at most %(max)d tickets at once.") % {
            "max": MAX_MERGE_SOURCES}]})
    tenant = target.tenant
    if any(s.tenant_id != tenant.pk for s in sources):
        raise ValidationError({"ticket_ids": [_("Unknown ticket.")]})
    if any(s.pk == target.pk for s in sources):
        raise ValidationError({"ticket_ids": [_("A ticket cannot be merged into itself.")]})
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        # Lock in id order: two merges over the same tickets cannot deadlock.
        locked = {t.pk: lock_ticket(t) for t in sorted([target, *sources], key=lambda t: t.pk)}
        target_locked = locked[target.pk]
        for ticket in locked.values():
            if ticket.status == Status.CLOSED:
                raise TicketClosed(ticket)
        now = timezone.now()
        moved_total = 0
        for source in sources:
            source_locked = locked[source.pk]
            moved_ids = list(Message.objects.filter(ticket=source_locked, side_conversation__isnull=True)
                             .exclude(kind=MessageKind.SYSTEM).values_list("id", flat=True))
            Message.objects.filter(pk__in=moved_ids).update(ticket=target_locked)
            Attachment.objects.filter(message_id__in=moved_ids).update(ticket=target_locked)
            moved_total += len(moved_ids)
            cc_contacts = set(TicketCC.objects.filter(ticket=source_locked).values_list("contact_id", flat=True))
            cc_contacts.add(source_locked.requester_id)
            cc_contacts.discard(target_locked.requester_id)
            have = set(TicketCC.objects.filter(ticket=target_locked).values_list("contact_id", flat=True))
            TicketCC.objects.bulk_create([TicketCC(tenant=tenant, ticket=target_locked, contact_id=c)
                                          for c in sorted(cc_contacts - have)])
            followers = set(TicketFollower.objects.filter(ticket=source_locked).values_list("user_id", flat=True))
            have = set(TicketFollower.objects.filter(ticket=target_locked).values_list("user_id", flat=True))
            TicketFollower.objects.bulk_create([TicketFollower(tenant=tenant, ticket=target_locked, user_id=u)
                                                for u in sorted(followers - have)])
            _recount(source_locked)
            ticket_close(ticket=source_locked, via=Via.SYSTEM, now=now, extra={},
                         text=_("Merged into #%(number)s by %(actor)s.") % {
                             "number": target_locked.number, "actor": actor_label(actor)})
            Ticket.objects.filter(pk=source_locked.pk).update(merged_into=target_locked)
            source_locked.merged_into = target_locked
            emit_ticket_event(ticket=source_locked, type="ticket.merged", actor=actor, via=via, payload={
                "merged_into": target_locked.pk, "merged_into_number": target_locked.number,
                "messages_moved": len(moved_ids)})
            audit_record(tenant=tenant, action="ticket.merged", actor=actor, actor_label=actor_label(actor),
                         obj=source_locked, after={"merged_into": target_locked.pk}, **(audit_meta or {}))

        _recount(target_locked)
        target_locked.version += 1
        target_locked.last_activity_at = now
        target_locked.save()
        numbers = [f"#{locked[s.pk].number}" for s in sources]
        changes = {"merged": (None, [locked[s.pk].pk for s in sources])}
        record_change(ticket=target_locked, actor=actor, via=via, at=now, changes=changes,
                      readable_changes={"merged": (None, numbers)},
                      text=_("%(tickets)s merged into this ticket (%(count)d messages moved).") % {
                          "tickets": ", ".join(numbers), "count": moved_total},
                      audit_action="ticket.merge_target", audit_meta=audit_meta)
        return target_locked


def ticket_split(*, message: Message, actor: Any, via: str, subject: str | None = None,
                 audit_meta: Mapping[str, Any] | None = None) -> Ticket:
    """Move one message (with its attachments) to a new ticket of the same requester.

    The new ticket is linked to the old one as related; both get a system entry.
    """
    if message.kind == MessageKind.SYSTEM or message.side_conversation_id:
        raise ValidationError({"message_id": [_("Only replies and notes can be split off.")]})
    tenant = message.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        locked = lock_ticket(Ticket(pk=message.ticket_id))
        if locked.status == Status.CLOSED:
            raise TicketClosed(locked)
        if not Message.objects.filter(pk=message.pk, ticket=locked).exists():
            raise ValidationError({"message_id": [_("Unknown message.")]})
        if Message.objects.filter(ticket=locked, side_conversation__isnull=True).exclude(
                kind=MessageKind.SYSTEM).count() < 2:
            raise ValidationError({"message_id": [_("The ticket's only message cannot be split off.")]})
        new = ticket_create(tenant=tenant, actor=actor, via=via, subject=subject or locked.subject, description="",
                            requester=message.author_contact or locked.requester, priority=locked.priority,
                            type=locked.type, channel=message.channel if message.channel else locked.channel,
                            language=locked.language, team=locked.team)
        new = lock_ticket(new)
        Message.objects.filter(pk=message.pk).update(ticket=new, ticket_version=new.version)
        Attachment.objects.filter(message=message).update(ticket=new)
        now = timezone.now()
        _recount(new)
        new.last_activity_at = now
        new.save()
        TicketLink.objects.get_or_create(tenant=tenant, source=locked, target=new, kind=LinkKind.RELATED)
        system_message(ticket=new, actor=actor, via=via, changes={"split_from": (None, locked)},
                       text=_("Split from #%(number)s.") % {"number": locked.number})
        _recount(locked)
        locked.version += 1
        locked.last_activity_at = now
        locked.save()
        record_change(ticket=locked, actor=actor, via=via, at=now, changes={"split_to": (None, new.pk)},
                      readable_changes={"split_to": (None, new)},
                      text=_("A message was split off into #%(number)s.") % {"number": new.number},
                      audit_action="ticket.split", audit_meta=audit_meta)
        return new


def ticket_link(*, source: Ticket, target: Ticket, actor: Any, via: str, kind: str = LinkKind.RELATED,
                audit_meta: Mapping[str, Any] | None = None) -> TicketLink:
    """Link two tickets (idempotent; a related link is one link whichever side asks)."""
    if kind not in LinkKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(values)s.") % {"values": ", ".join(LinkKind.values)}]})
    if source.tenant_id != target.tenant_id:
        raise ValidationError({"ticket_id": [_("Unknown ticket.")]})
    if source.pk == target.pk:
        raise ValidationError({"ticket_id": [_("A ticket cannot be linked to itself.")]})
    tenant = source.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        existing = TicketLink.objects.filter(
            Q(source=source, target=target) | Q(source=target, target=source, kind=LinkKind.RELATED),
            kind=kind).first()
        if existing is not None:
            return existing
        link = TicketLink.objects.create(tenant=tenant, source=source, target=target, kind=kind)
        now = timezone.now()
        # Lock in id order: two links of the same pair made at once cannot deadlock.
        for one, other in sorted(((source, target), (target, source)), key=lambda pair: pair[0].pk):
            locked = lock_ticket(one)
            if locked.status == Status.CLOSED:
                continue  # a new case may point at a closed one; the closed one stays as it was
            locked.version += 1
            locked.last_activity_at = now
            locked.save(update_fields=["version", "last_activity_at", "updated_at"])
            record_change(ticket=locked, actor=actor, via=via, at=now, changes={"links": (None, other.pk)},
                          readable_changes={"linked": (None, other)}, audit_action="ticket.linked",
                          audit_meta=audit_meta)
        return link


def ticket_unlink(*, link: TicketLink, actor: Any, via: str, audit_meta: Mapping[str, Any] | None = None) -> None:
    tenant = link.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        source, target = link.source, link.target
        link.delete()
        now = timezone.now()
        for one, other in sorted(((source, target), (target, source)), key=lambda pair: pair[0].pk):
            locked = lock_ticket(one)
            if locked.status == Status.CLOSED:
                continue
            locked.version += 1
            locked.last_activity_at = now
            locked.save(update_fields=["version", "last_activity_at", "updated_at"])
            record_change(ticket=locked, actor=actor, via=via, at=now, changes={"links": (other.pk, None)},
                          readable_changes={"linked": (other, None)}, audit_action="ticket.unlinked",
                          audit_meta=audit_meta)


def incidents_of(problem: Ticket):
    return Ticket.objects.filter(problem=problem).order_by("number")



def problem_solve_incidents(*, problem: Ticket, actor: Any = None, via: str = Via.SYSTEM) -> list[int]:
    """Solve the problem's incidents that are still unsolved (new, open, pending, on-hold),
    each in its own short transaction, as Zendesk does when a problem is solved. Each gets a
    system entry naming the problem; their requesters hear through the usual triggers.
    Returns the numbers of the incidents solved. Idempotent: solved and closed incidents are
    left alone, so a repeated call solves nothing twice."""
    from tickets.services.tickets import apply_changes

    solved = []
    with tenant_scope(problem.tenant):
        pending = list(Ticket.objects.filter(problem=problem)
                       .exclude(status__in=(Status.SOLVED, Status.CLOSED)).order_by("number")
                       .values_list("pk", flat=True))
        for pk in pending:
            try:
                with transaction.atomic():
                    incident = lock_ticket(Ticket.objects.get(pk=pk))
                    if incident.status in (Status.SOLVED, Status.CLOSED) or incident.problem_id != problem.pk:
                        continue  # changed since the list was read
                    fields: dict[str, Any] = {"status": Status.SOLVED}
                    if incident.assignee_id is None and problem.assignee_id is not None:
                        fields["assignee"] = problem.assignee  # solving needs an assignee (SPEC.md §1)
                    apply_changes(ticket=incident, actor=actor, via=via, fields=fields,
                                  text=_("Solved together with problem #%(number)s.") % {"number": problem.number})
                    solved.append(incident.number)
            except ValidationError as exc:  # e.g. a rule this incident breaks: the others still go
                logger.warning("incident %s of problem %s left unsolved: %s", pk, problem.pk, exc)
    return solved


def problem_solved_consumer(event) -> None:
    """Event consumer (``ticket.updated``): a problem that became solved solves its incidents."""
    status = ((event.payload or {}).get("changes") or {}).get("status")
    if not (isinstance(status, list) and len(status) == 2 and status[1] == Status.SOLVED):
        return
    if not (event.subject_type == "tickets.ticket" and event.subject_id.isdigit()):
        return
    from tickets.models import TicketType

    problem = Ticket.objects.select_related("tenant", "assignee").filter(pk=int(event.subject_id),
                                                            type=TicketType.PROBLEM).first()
    if problem is not None and problem.status == Status.SOLVED:
        problem_solve_incidents(problem=problem)
