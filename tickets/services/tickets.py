"""Creating and changing tickets: numbers, requesters, the status rules of SPEC.md §1."""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.db.compiled import CompiledQuery
from helpdesk.people.identities import normalize_email
from helpdesk.people.models import Contact, IdentityKind, Team
from helpdesk.people.services import contact_resolve
from helpdesk.tenancy.context import current_tenant_id, dangerously_unscoped, is_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant
from helpdesk.tenancy.roles import Cap, Scope
from tickets.hooks import TicketChange, run_ticket_hooks
from tickets.models import (
    Channel,
    ContactReason,
    Message,
    MessageKind,
    Priority,
    Status,
    Tag,
    Ticket,
    TicketCC,
    TicketCounter,
    TicketSettings,
    TicketTag,
    TicketType,
    Via,
)
from tickets.models.ticket import (
    SOLVED_TO_CLOSED_DAYS_DEFAULT,
    SOLVED_TO_CLOSED_DAYS_MAX,
    SOLVED_TO_CLOSED_DAYS_MIN,
)
from tickets.services import attachments as attachment_services
from tickets.services.common import (
    AGENT_VIAS,
    StaleTicket,
    TicketClosed,
    actor_label,
    actor_role,
    emit_ticket_event,
    is_user,
    readable,
    record_change,
    require_capability,
    ticket_payload,
    validate_assignee,
    validate_team,
)
from tickets.services.content import MAX_BODY_CHARS, prepare_body
from tickets.services.taxonomy import (
    clean_custom_fields,
    missing_required_fields,
    normalize_tags,
    tags_ensure,
    validate_contact_reason,
)

logger = logging.getLogger(__name__)

SUBJECT_MAX_LENGTH = 250
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
# Fields ``ticket_update`` accepts.
UPDATABLE = ("subject", "status", "priority", "type", "assignee", "team", "tags", "add_tags", "remove_tags",
             "custom_fields", "contact_reason", "problem", "language")
# Statuses an agent (or the API) may set; ``closed`` is the system's, ``new`` is never set again.
SETTABLE_STATUSES = (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED)
CLOSE_BATCH = 500
MAX_CCS = 48


# --- requesters --------------------------------------------------------------------------

def contact_for_email(*, tenant: Tenant, email: str, name: str = "",
                      assigning_organizations: bool | None = None) -> Contact:
    """The contact reached at ``email`` (an email identity), created with that identity if none.

    A thin wrapper of ``people.services.contact_resolve`` (see there for
    ``assigning_organizations``) that keeps the ticket forms' error key."""
    try:
        value = normalize_email(email or "")
    except ValidationError:
        raise ValidationError({"requester.email": [_("Enter a valid email address.")]}) from None
    return contact_resolve(tenant=tenant, kind=IdentityKind.EMAIL, value=value, name=name,
                           assigning_organizations=assigning_organizations)


# --- numbers -----------------------------------------------------------------------------

def next_ticket_number(*, tenant: Tenant) -> int:
    """The tenant's next number. Precondition: inside the transaction that creates the
    ticket: the counter row stays locked until it commits, so numbers have no gaps (a
    rolled-back ticket rolls its number back too) and no repeats.

    One statement (``UPDATE … RETURNING`` takes the row lock and returns the number);
    the tenant's first ticket creates the row first."""
    opts = TicketCounter._meta
    sql = (f"UPDATE {connection.ops.quote_name(opts.db_table)} "
           f"SET last_number = last_number + 1 WHERE tenant_id = %s RETURNING last_number")
    for _attempt in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [tenant.pk])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        TicketCounter.objects.get_or_create(tenant=tenant)
    raise RuntimeError(f"no ticket counter for tenant {tenant.pk}")  # unreachable: the row exists now


# --- validation helpers ------------------------------------------------------------------

def _clean_subject(subject: Any) -> str:
    if not isinstance(subject, str):
        raise ValidationError({"subject": [_("Enter a subject.")]})
    subject = " ".join(subject.split())
    if not subject:
        raise ValidationError({"subject": [_("Enter a subject.")]})
    if len(subject) > SUBJECT_MAX_LENGTH:
        raise ValidationError({"subject": [_("Use at most %(max)d characters.") % {"max": SUBJECT_MAX_LENGTH}]})
    return subject


def _clean_choice(name: str, value: Any, choices) -> str:
    if value not in choices.values:
        raise ValidationError({name: [_("Choose one of: %(values)s.") % {"values": ", ".join(choices.values)}]})
    return value


def _clean_language(value: Any) -> str:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise ValidationError({"language": [_("Use a language code such as en or tr.")]})
    return value.replace("_", "-")


def _clean_problem(*, tenant: Tenant, ticket: Ticket | None, problem: Ticket | None) -> Ticket | None:
    if problem is None:
        return None
    if problem.tenant_id != tenant.pk:
        raise ValidationError({"problem": [_("Unknown ticket.")]})
    if ticket is not None and problem.pk == ticket.pk:
        raise ValidationError({"problem": [_("A ticket cannot be its own problem.")]})
    if problem.type != TicketType.PROBLEM:
        raise ValidationError({"problem": [_("Link incidents to a ticket of type problem.")]})
    if ticket is not None and ticket.type == TicketType.PROBLEM:
        raise ValidationError({"problem": [_("A problem cannot be an incident of another problem.")]})
    return problem


def _display(value: Any) -> Any:
    """What a system entry shows for an assignee, team or reason."""
    if value is None:
        return None
    if is_user(value):
        return value.get_full_name()
    return readable(value)


def _check_body_length(body: str) -> None:
    if len(body or "") > MAX_BODY_CHARS:
        raise ValidationError({"body": [_("The message is too long (%(max)d characters at most).") % {
            "max": MAX_BODY_CHARS}]})


# --- create ------------------------------------------------------------------------------

def ticket_create(
    *,
    tenant: Tenant,
    actor: Any,
    via: str,
    subject: str,
    description: str = "",
    requester: Contact,
    priority: str = Priority.NORMAL,
    type: str = TicketType.QUESTION,
    channel: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
    assignee: Any = None,
    team: Team | None = None,
    language: str | None = None,
    public_description: bool = True,
    contact_reason: ContactReason | None = None,
    problem: Ticket | None = None,
    follow_up_of: Ticket | None = None,
    external_id: str = "",
    attachments: Iterable[Any] = (),
    ccs: Iterable[Contact] = (),
    audit_meta: Mapping[str, Any] | None = None,
    business_hours: BusinessCalendar | None = None,
) -> Ticket:
    """Open a case for ``requester`` with the next number of the tenant.

    ``ccs``: contacts copied from the start (an email's other recipients), part of the
    creation itself (no separate entries); the requester and duplicates are skipped.

    ``business_hours``: the calendar the ticket's SLA runs in instead of its policy's (a
    request from a service location's page runs in the location's hours).

    The description becomes the first message: public (unless ``public_description`` is
    False), authored by the agent when a person creates it from the console or the API
    session, otherwise (customer channels, API keys, the system) by the requester. An
    assignee given at creation is the first agent action: the ticket starts ``open``.
    The returned ticket carries that first message as ``created_message`` (None without one).
    """
    with tenant_scope(tenant):
        return _ticket_create(**locals())


def _ticket_create(*, tenant, actor, via, subject, description, requester, priority, type, channel, tags,
                   custom_fields, assignee, team, language, public_description, contact_reason, problem,
                   follow_up_of, external_id, attachments, ccs, audit_meta, business_hours) -> Ticket:
    if via in AGENT_VIAS or actor is not None:
        require_capability(tenant=tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
    _clean_choice("via", via, Via)
    subject = _clean_subject(subject)
    priority = _clean_choice("priority", priority, Priority)
    type = _clean_choice("type", type, TicketType)
    channel = _clean_choice("channel", channel or _default_channel(via), Channel)
    if requester is None or requester.tenant_id != tenant.pk:
        raise ValidationError({"requester": [_("Unknown requester.")]})
    tag_names = normalize_tags(tags or ())
    values = clean_custom_fields(tenant=tenant, values=custom_fields or {})
    assignee = validate_assignee(tenant=tenant, user=assignee)
    team = validate_team(tenant=tenant, team=team)
    contact_reason = validate_contact_reason(tenant=tenant, reason=contact_reason)
    problem = _clean_problem(tenant=tenant, ticket=None, problem=problem)
    if business_hours is not None and business_hours.tenant_id != tenant.pk:
        raise ValidationError({"business_hours": [_("Unknown business hours.")]})
    if type == TicketType.PROBLEM and problem is not None:
        raise ValidationError({"problem": [_("A problem cannot be an incident of another problem.")]})
    language = _clean_language(language or requester.locale or tenant.default_locale)
    _check_body_length(description)
    uploads = attachment_services.check_uploads(attachments)  # refuse before anything is written
    body = prepare_body(description or "", content_ids=attachment_services.checked_content_ids(uploads))

    # Every check above runs before the first write, so the writes need no savepoint of their
    # own inside a caller's transaction (a savepoint costs two round trips; bench/email_ingest.py):
    # an error while writing is unexpected and fails the caller's transaction with it.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        agent_authored = is_user(actor)
        has_message = bool(body.text) or bool(uploads)
        customer_message = has_message and not agent_authored and public_description
        ticket = Ticket(
            tenant=tenant, number=next_ticket_number(tenant=tenant), subject=subject,
            status=Status.OPEN if assignee is not None else Status.NEW,
            priority=priority, type=type, channel=channel, language=language, requester=requester,
            organization_id=requester.organization_id, assignee=assignee, team=team, contact_reason=contact_reason,
            custom_fields=values, problem=problem, follow_up_of=follow_up_of, created_via=via,
            last_activity_at=now, status_changed_at=now, message_count=1 if has_message else 0,
            last_customer_message_at=now if customer_message else None, version=1, business_hours=business_hours,
        )
        ticket.save()
        if tag_names:
            tag_rows = tags_ensure(tenant=tenant, names=tag_names)
            TicketTag.objects.bulk_create([TicketTag(tenant=tenant, ticket=ticket, tag=tag_rows[n]) for n in tag_names])
        cc_ids = list(dict.fromkeys(c.pk for c in ccs if c.tenant_id == tenant.pk and c.pk != requester.pk))[:MAX_CCS]
        if cc_ids:
            TicketCC.objects.bulk_create([TicketCC(tenant=tenant, ticket=ticket, contact_id=c) for c in cc_ids])

        message = None
        if has_message:
            message = Message.objects.create(
                tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC if public_description else MessageKind.NOTE,
                author_user=actor if agent_authored else None,
                author_contact=None if agent_authored else requester,
                via=via, channel=channel, external_id=external_id or "", body_html=body.html, body_text=body.text,
                ticket_version=1,
            )
            attachment_services.attachments_store(ticket=ticket, message=message, uploads=[u[0] for u in uploads],
                                                  uploaded_by=actor)
        payload = {"message_id": message.pk if message else None,
                   "follow_up_of": follow_up_of.pk if follow_up_of else None, "tags": tag_names, "ccs": cc_ids}
        emit_ticket_event(ticket=ticket, type="ticket.created", actor=actor, via=via, payload=payload)
        audit_record(tenant=tenant, action="ticket.created", actor=actor, actor_label=actor_label(actor), obj=ticket,
                     after={**ticket_payload(ticket), "tags": tag_names, "custom_fields": values},
                     **(audit_meta or {}))
        run_ticket_hooks(TicketChange(ticket=ticket, actor=actor, via=via, at=now, created=True, message=message))
        ticket.created_message = message  # the description's entry (None without one), so callers need no query
        return ticket


def _default_channel(via: str) -> str:
    return {Via.API: Channel.API, Via.CONSOLE: Channel.CONSOLE}.get(via, Channel.WEB)


# --- update ------------------------------------------------------------------------------

# Every change to a ticket (console, API, mail, chat) starts here: compiled once per process
# (helpdesk.db.compiled). ``of=("self",)``: the ticket's row only. A bare FOR UPDATE locked the
# joined tenant row as well, so every ticket change of a tenant waited for the one before it,
# and so did any commit checking a foreign key to the tenant (FOR KEY SHARE).
_LOCKED_TICKET = CompiledQuery(
    lambda tenant_id, pk: (Ticket.unscoped.select_for_update(of=("self",)).select_related("tenant")
                           .filter(tenant_id=tenant_id, pk=pk)),
    tenant_id=int, pk=int)


def lock_ticket(ticket: Ticket) -> Ticket:
    """The ticket's row (with its tenant), locked until the transaction ends; the tenant in
    scope's only (``Ticket.DoesNotExist`` otherwise). Precondition: in ``atomic()``."""
    tenant_id = ticket.tenant_id if is_unscoped() else current_tenant_id()
    found = [] if tenant_id is None else _LOCKED_TICKET.fetch(tenant_id=tenant_id, pk=ticket.pk)
    if not found:
        raise Ticket.DoesNotExist("Ticket matching query does not exist.")
    return found[0]


def check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and int(expected_version) != ticket.version:
        raise StaleTicket(ticket=ticket, expected_version=int(expected_version))


def ticket_update(*, ticket: Ticket, actor: Any, via: str, expected_version: int | None = None,
                  audit_meta: Mapping[str, Any] | None = None, **fields: Any) -> Ticket:
    """Change properties of a ticket, by the rules of SPEC.md §1.

    ``fields``: subject, status, priority, type, assignee, team, tags (the whole set),
    add_tags, remove_tags, custom_fields (merged; a None value removes a key),
    contact_reason, problem, language. Every effective change bumps ``version`` and writes
    one system entry ``{field: [before, after]}``; a call that changes nothing writes
    nothing. Raises ``TicketClosed`` on a closed ticket and ``StaleTicket`` when
    ``expected_version`` is not the ticket's version.
    """
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise TypeError(f"ticket_update() got unexpected fields: {', '.join(sorted(unknown))}")
    with transaction.atomic(), tenant_scope(ticket.tenant):
        locked = lock_ticket(ticket)
        if locked.status == Status.CLOSED:
            raise TicketClosed(locked)
        check_version(locked, expected_version)
        require_capability(tenant=locked.tenant, actor=actor, capability=Cap.TICKETS_EDIT, via=via)
        apply_changes(ticket=locked, actor=actor, via=via, fields=fields, audit_meta=audit_meta)
        return locked


def apply_changes(*, ticket: Ticket, actor: Any, via: str, fields: Mapping[str, Any],
                  audit_meta: Mapping[str, Any] | None = None, message: Message | None = None,
                  system: bool = False, text: str = "", now: dt.datetime | None = None,
                  bump_version: bool = True) -> dict:
    """Validate and apply ``fields`` to the locked ``ticket``; record the change. Returns the
    raw changes. ``system`` allows the system-only transitions (closing); ``bump_version``
    is False when the caller already counted this change (a message that reopens)."""
    tenant = ticket.tenant
    now = now or timezone.now()
    changes: dict[str, tuple[Any, Any]] = {}
    shown: dict[str, tuple[Any, Any]] = {}
    updates: dict[str, Any] = {}

    def change(attname: str, label: str, before: Any, after: Any, before_shown: Any = None,
               after_shown: Any = None, *, store: bool = True) -> None:
        changes[attname] = (before, after)
        shown[label] = (before if before_shown is None else before_shown,
                        after if after_shown is None else after_shown)
        if store:
            updates[attname] = after

    if "subject" in fields:
        subject = _clean_subject(fields["subject"])
        if subject != ticket.subject:
            change("subject", "subject", ticket.subject, subject)
    for name, choices in (("priority", Priority), ("type", TicketType)):
        if name in fields:
            value = _clean_choice(name, fields[name], choices)
            if value != getattr(ticket, name):
                change(name, name, getattr(ticket, name), value)
    if "language" in fields:
        language = _clean_language(fields["language"])
        if language != ticket.language:
            change("language", "language", ticket.language, language)
    if "assignee" in fields:
        assignee = validate_assignee(tenant=tenant, user=fields["assignee"])
        if (assignee.pk if assignee else None) != ticket.assignee_id:
            change("assignee_id", "assignee", ticket.assignee_id, assignee.pk if assignee else None,
                   _display(ticket.assignee), _display(assignee))
            ticket.assignee = assignee
    if "team" in fields:
        team = validate_team(tenant=tenant, team=fields["team"])
        if (team.pk if team else None) != ticket.team_id:
            change("team_id", "team", ticket.team_id, team.pk if team else None, _display(ticket.team),
                   _display(team))
            ticket.team = team
    if "contact_reason" in fields:
        reason = validate_contact_reason(tenant=tenant, reason=fields["contact_reason"])
        if (reason.pk if reason else None) != ticket.contact_reason_id:
            change("contact_reason_id", "contact_reason", ticket.contact_reason_id, reason.pk if reason else None,
                   _display(ticket.contact_reason), _display(reason))
            ticket.contact_reason = reason
    if "problem" in fields:
        type_after = updates.get("type", ticket.type)
        probe = Ticket(pk=ticket.pk, type=type_after)
        problem = _clean_problem(tenant=tenant, ticket=probe, problem=fields["problem"])
        if (problem.pk if problem else None) != ticket.problem_id:
            change("problem_id", "problem", ticket.problem_id, problem.pk if problem else None,
                   _display(ticket.problem), _display(problem))
            ticket.problem = problem
    elif "type" in updates and updates["type"] == TicketType.PROBLEM and ticket.problem_id:
        raise ValidationError({"type": [_("This ticket is an incident of a problem: unlink it first.")]})
    if "custom_fields" in fields:
        values = clean_custom_fields(tenant=tenant, values=fields["custom_fields"], current=ticket.custom_fields)
        if values != ticket.custom_fields:
            before = ticket.custom_fields or {}
            keys = sorted(set(before) | set(values))
            diff = {k: [before.get(k), values.get(k)] for k in keys if before.get(k) != values.get(k)}
            changes["custom_fields"] = ({k: v[0] for k, v in diff.items()}, {k: v[1] for k, v in diff.items()})
            for key, (b, a) in diff.items():
                shown[f"custom_fields.{key}"] = (b, a)
            updates["custom_fields"] = values

    # Tags: the whole set, or additions and removals.
    current_tags = None
    if any(k in fields for k in ("tags", "add_tags", "remove_tags")):
        current_tags = list(Tag.objects.filter(ticket_tags__ticket=ticket).order_by("name")
                            .values_list("name", flat=True))
        target = normalize_tags(fields["tags"]) if "tags" in fields else list(current_tags)
        for name in normalize_tags(fields.get("add_tags") or ()):
            if name not in target:
                target.append(name)
        removing = set(normalize_tags(fields.get("remove_tags") or ()))
        target = [t for t in target if t not in removing]
        normalize_tags(target)  # the per-ticket limit
        if set(target) != set(current_tags):
            change("tags", "tags", sorted(current_tags), sorted(target), store=False)

    # Status, last: the rules depend on what else changes.
    status = ticket.status
    if "status" in fields:
        wanted = fields["status"]
        if wanted not in Status.values:
            raise ValidationError({"status": [_("Choose one of: %(values)s.") % {
                "values": ", ".join(SETTABLE_STATUSES)}]})
        if wanted == Status.CLOSED and not system:
            raise ValidationError({"status": [_("Tickets are closed by the system, %(days)s days after they are "
                                                "solved; solve it instead.") % {
                "days": solved_to_closed_days(tenant=tenant)}]})
        if wanted == Status.NEW and ticket.status != Status.NEW:
            raise ValidationError({"status": [_("A ticket cannot go back to new.")]})
        status = wanted
    elif ticket.status == Status.NEW and changes.get("assignee_id", (None, None))[1] is not None:
        # Assignment is the first agent action (routing and triggers assign on an agent's behalf).
        status = Status.OPEN
    if status == Status.SOLVED and ticket.status != Status.SOLVED:
        assignee_after = changes["assignee_id"][1] if "assignee_id" in changes else ticket.assignee_id
        if assignee_after is None:
            if is_user(actor) and actor_role(tenant=tenant, actor=actor) in ("owner", "admin", "agent"):
                change("assignee_id", "assignee", None, actor.pk, None, _display(actor))
                ticket.assignee = actor
            else:
                raise ValidationError({"status": [_("Assign the ticket before solving it.")]})
        values_after = updates.get("custom_fields", ticket.custom_fields) or {}
        missing = missing_required_fields(tenant=tenant, values=values_after)
        if missing:
            raise ValidationError({f"custom_fields.{f.key}": [_("%(label)s is required to solve the ticket.") % {
                "label": f.label}] for f in missing})
    if status != ticket.status:
        change("status", "status", ticket.status, status)
        updates["status_changed_at"] = now
        if status == Status.SOLVED:
            updates["solved_at"] = now
        if status == Status.CLOSED:
            updates["closed_at"] = now
        if ticket.status == Status.SOLVED and status != Status.CLOSED:
            updates["reopen_count"] = ticket.reopen_count + 1

    if not changes:
        return {}
    for attname, value in updates.items():
        setattr(ticket, attname, value)
    if "tags" in changes:
        _set_tags(ticket=ticket, names=changes["tags"][1])
    if bump_version:
        ticket.version += 1
    ticket.last_activity_at = now
    ticket.save()
    record_change(ticket=ticket, actor=actor, via=via, at=now, changes=changes, readable_changes=shown,
                  message=message, text=text, audit_meta=audit_meta)
    return changes


def _set_tags(*, ticket: Ticket, names: list[str]) -> None:
    rows = tags_ensure(tenant=ticket.tenant, names=names)
    TicketTag.objects.filter(ticket=ticket).exclude(tag__name__in=names).delete()
    have = set(TicketTag.objects.filter(ticket=ticket).values_list("tag__name", flat=True))
    TicketTag.objects.bulk_create([TicketTag(tenant_id=ticket.tenant_id, ticket=ticket, tag=rows[n])
                                   for n in names if n not in have])


def ticket_close(*, ticket: Ticket, via: str = Via.SYSTEM, now: dt.datetime | None = None,
                 extra: Mapping[str, Any] | None = None, text: str = "") -> Ticket:
    """Close ``ticket`` (the system's transition: never an agent's). Precondition: the
    caller holds the row lock (``lock_ticket``) in the ticket's tenant scope."""
    if ticket.status == Status.CLOSED:
        return ticket
    apply_changes(ticket=ticket, actor=None, via=via, fields={"status": Status.CLOSED, **(extra or {})},
                  system=True, text=text, now=now)
    return ticket


# --- settings and the close job ----------------------------------------------------------

def ticket_settings_get(*, tenant: Tenant) -> TicketSettings:
    """The tenant's settings row, or an unsaved one holding the defaults."""
    with tenant_scope(tenant):
        return TicketSettings.objects.filter(tenant=tenant).first() or TicketSettings(tenant=tenant)


def solved_to_closed_days(*, tenant: Tenant) -> int:
    return ticket_settings_get(tenant=tenant).solved_to_closed_days


@transaction.atomic
def ticket_settings_update(*, tenant: Tenant, actor: Any, solved_to_closed_days: int,
                           audit_meta: Mapping[str, Any] | None = None) -> TicketSettings:
    with tenant_scope(tenant):
        require_capability(tenant=tenant, actor=actor, capability=Cap.SETTINGS_MANAGE, via=Via.SYSTEM,
                           scope=Scope.SETTINGS_WRITE)
        if (isinstance(solved_to_closed_days, bool) or not isinstance(solved_to_closed_days, int)
                or not SOLVED_TO_CLOSED_DAYS_MIN <= solved_to_closed_days <= SOLVED_TO_CLOSED_DAYS_MAX):
            raise ValidationError({"solved_to_closed_days": [
                _("Choose between %(min)d and %(max)d days.") % {"min": SOLVED_TO_CLOSED_DAYS_MIN,
                                                                  "max": SOLVED_TO_CLOSED_DAYS_MAX}]})
        settings_row, _created = TicketSettings.objects.select_for_update().get_or_create(tenant=tenant)
        before = settings_row.solved_to_closed_days
        settings_row.solved_to_closed_days = solved_to_closed_days
        settings_row.full_clean(exclude=["tenant"])
        settings_row.save()
        audit_record(tenant=tenant, action="ticket_settings.updated", actor=actor, actor_label=actor_label(actor),
                     obj=settings_row, before={"solved_to_closed_days": before},
                     after={"solved_to_closed_days": solved_to_closed_days}, **(audit_meta or {}))
    return settings_row


def _due_to_close(now: dt.datetime):
    """Solved tickets of every tenant whose solved_at + the tenant's days <= now.

    A range scan of the partial index ``ticket_solved_to_close`` bounded by the shortest
    setting (1 day); each row's own tenant setting is then compared in SQL.
    """
    days = Coalesce(
        Subquery(TicketSettings.unscoped.filter(tenant_id=OuterRef("tenant_id"))
                 .values("solved_to_closed_days")[:1]),
        Value(SOLVED_TO_CLOSED_DAYS_DEFAULT),
    )
    # The cut-off per setting as literals (no interval arithmetic: SQLite has none).
    cutoff = Case(*[When(close_days=d, then=Value(now - dt.timedelta(days=d)))
                    for d in range(SOLVED_TO_CLOSED_DAYS_MIN, SOLVED_TO_CLOSED_DAYS_MAX + 1)],
                  default=Value(now - dt.timedelta(days=SOLVED_TO_CLOSED_DAYS_DEFAULT)), output_field=DateTimeField())
    return (Ticket.unscoped
            .filter(status=Status.SOLVED, solved_at__lte=now - dt.timedelta(days=SOLVED_TO_CLOSED_DAYS_MIN))
            .annotate(close_days=days)
            .filter(solved_at__lte=cutoff))


def tickets_close_solved(*, now: dt.datetime | None = None, batch_size: int = CLOSE_BATCH) -> int:
    """Close what was solved long enough ago, across tenants; returns how many were closed.

    Batches lock their rows with ``SKIP LOCKED``: two runs at once share the work instead
    of waiting or closing a ticket twice, and a ticket an agent is changing right now is
    left for the next run. Each ticket is closed in its own tenant's scope.
    """
    now = now or timezone.now()
    closed = 0
    failed: set[int] = set()
    while True:
        with transaction.atomic():
            # Crosses tenants by design: the job serves all of them (each close is scoped).
            with dangerously_unscoped():
                batch = list(_due_to_close(now).exclude(pk__in=failed).select_related("tenant")
                             .select_for_update(skip_locked=True, of=("self",))
                             .order_by("solved_at", "id")[:batch_size])
            for ticket in batch:
                try:
                    # One ticket's failure (a hook's bug) must not keep the others open.
                    with transaction.atomic(), tenant_scope(ticket.tenant):
                        ticket_close(ticket=ticket, now=now, text=_(
                            "Closed automatically %(days)s days after it was solved.") % {"days": ticket.close_days})
                    closed += 1
                except Exception:
                    logger.exception("closing solved ticket %s failed", ticket.pk)
                    failed.add(ticket.pk)
        if len(batch) < batch_size:
            return closed
