"""ticket_create / ticket_update: numbers, requesters, status rules (SPEC.md §1), fields, guard."""
from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.people.models import ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import ContactFactory, TeamFactory, TenantFactory, agent_in
from tests.tickets.core_helpers import light_agent, make_ticket, requester, second_agent  # noqa: F401
from tests.tickets.factories import ContactReasonFactory, CustomFieldFactory
from tickets import hooks as ticket_hooks
from tickets.hooks import register_ticket_hook
from tickets.models import (
    CustomFieldKind,
    Message,
    MessageKind,
    Priority,
    Status,
    Ticket,
    TicketType,
    Via,
)
from tickets.services import (
    StaleTicket,
    TicketClosed,
    contact_for_email,
    message_add,
    ticket_create,
    ticket_update,
)
from tickets.services.tickets import ticket_close, lock_ticket

pytestmark = pytest.mark.django_db


# --- create ------------------------------------------------------------------------------

def test_customer_ticket_has_the_description_as_its_first_public_message(tenant, make_ticket, requester):
    ticket = make_ticket(priority=Priority.HIGH, tags=["VIP customer", "refund"])
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.number == 1
        assert ticket.status == Status.NEW
        assert ticket.language == "tr"  # from the contact
        assert ticket.version == 1
        assert ticket.message_count == 1
        assert ticket.last_customer_message_at is not None
        assert ticket.last_activity_at is not None
        assert sorted(ticket.tags.values_list("name", flat=True)) == ["refund", "vip-customer"]
        (message,) = Message.objects.filter(ticket=ticket)
        assert message.kind == MessageKind.PUBLIC
        assert message.author_contact == requester and message.author_user is None
        assert message.body_text == "It has been two weeks since I ordered."
        assert message.ticket_version == 1
        assert Event.objects.filter(type="ticket.created", subject_id=str(ticket.pk)).exists()
        assert AuditEntry.objects.filter(action="ticket.created", object_id=str(ticket.pk)).exists()


def test_agent_created_ticket_is_authored_by_the_agent_and_organization_comes_from_the_contact(tenant, agent):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(tenant=tenant)
    contact = ContactFactory(tenant=tenant, organization=org, locale="")
    with tenant_scope(tenant):
        ticket = ticket_create(tenant=tenant, actor=agent, via=Via.CONSOLE, subject="Phone call about invoice",
                               description="Customer called about the invoice.", requester=contact)
        message = ticket.messages.get()
    assert message.author_user == agent and message.author_contact is None
    assert ticket.organization_id == org.pk
    assert ticket.language == tenant.default_locale
    assert ticket.last_customer_message_at is None
    assert ticket.first_reply_at is None  # the creating message does not count as a reply


def test_assignee_at_creation_opens_the_ticket(tenant, agent, make_ticket):
    ticket = make_ticket(assignee=agent, actor=agent, via=Via.CONSOLE)
    assert ticket.status == Status.OPEN


def test_numbers_are_per_tenant(tenant, other_tenant, make_ticket):
    first, second = make_ticket(), make_ticket()
    other_contact = ContactFactory(tenant=other_tenant)
    with tenant_scope(other_tenant):
        other = ticket_create(tenant=other_tenant, actor=None, via=Via.CUSTOMER, subject="Hello",
                              requester=other_contact)
    assert (first.number, second.number, other.number) == (1, 2, 1)


@pytest.mark.django_db(transaction=True)
def test_numbers_have_no_gaps_or_repeats_under_concurrent_creation():
    tenant = TenantFactory(slug="race")
    contact = ContactFactory(tenant=tenant)
    threads_count, per_thread = 6, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads_count)

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                with tenant_scope(tenant):
                    ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject="Race",
                                  description="Who is first?", requester=contact)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with tenant_scope(tenant):
        numbers = sorted(Ticket.objects.values_list("number", flat=True))
    assert numbers == list(range(1, threads_count * per_thread + 1))


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks of PostgreSQL")
def test_locking_a_ticket_locks_that_row_only():
    """Two changes to two tickets of one tenant run side by side; a change to the same ticket
    waits. (A bare FOR UPDATE with the tenant joined locked the tenant's row too.)"""
    from django.db import transaction
    from django.db.utils import OperationalError

    tenant = TenantFactory(slug="locks")
    contact = ContactFactory(tenant=tenant)
    with tenant_scope(tenant):
        first, second = (ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject=subject,
                                       description="Hello", requester=contact) for subject in ("One", "Two"))
    held, done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def hold_first():
        try:
            with tenant_scope(tenant), transaction.atomic():
                outcome["holder"] = lock_ticket(first).tenant.slug
                held.set()
                done.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert held.wait(10)
        with tenant_scope(tenant):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                assert lock_ticket(second).pk == second.pk
                ContactFactory(tenant=tenant)  # a commit checking its key to the tenant's row
            with pytest.raises(OperationalError), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'")
                lock_ticket(first)
    finally:
        done.set()
        holder.join()
    assert outcome["holder"] == "locks"


def test_locking_finds_only_the_tickets_of_the_tenant_in_scope(tenant, other_tenant, make_ticket):
    from django.db import transaction

    ticket = make_ticket()
    with transaction.atomic():
        with tenant_scope(tenant):
            locked = lock_ticket(ticket)
        assert locked.pk == ticket.pk and locked.tenant == tenant
        with tenant_scope(other_tenant), pytest.raises(Ticket.DoesNotExist):
            lock_ticket(ticket)
        with pytest.raises(Ticket.DoesNotExist):
            lock_ticket(ticket)  # no tenant in scope


def test_a_failed_create_does_not_use_up_a_number(tenant, make_ticket):
    make_ticket()
    with pytest.raises(ValidationError):
        make_ticket(custom_fields={"nope": 1})
    assert make_ticket().number == 2


def test_create_validates_its_input(tenant, make_ticket, other_tenant):
    with pytest.raises(ValidationError) as exc:
        make_ticket(subject="   ")
    assert "subject" in exc.value.message_dict
    with pytest.raises(ValidationError):
        make_ticket(priority="critical")
    with pytest.raises(ValidationError):
        make_ticket(requester=ContactFactory(tenant=other_tenant))
    outsider = agent_in(other_tenant, role=Role.AGENT, email="out@globex.test")
    with pytest.raises(ValidationError) as exc:
        make_ticket(assignee=outsider)
    assert "assignee" in exc.value.message_dict


def test_light_agents_cannot_create_tickets(tenant, light_agent, make_ticket):
    with pytest.raises(PermissionDenied):
        make_ticket(actor=light_agent, via=Via.CONSOLE)


def test_contact_for_email_finds_by_normalised_identity_or_creates_one(tenant, requester):
    with tenant_scope(tenant):
        assert contact_for_email(tenant=tenant, email="  AYSE@Example.ORG ") == requester
        new = contact_for_email(tenant=tenant, email="New.Person@Example.com", name="New Person")
        assert new.name == "New Person"
        assert ContactIdentity.objects.get(contact=new).value == "new.person@example.com"
        assert contact_for_email(tenant=tenant, email="new.person@example.com") == new
        with pytest.raises(ValidationError):
            contact_for_email(tenant=tenant, email="not an email")


# --- status rules ------------------------------------------------------------------------

def test_assignment_moves_new_to_open_and_never_back(tenant, agent, make_ticket):
    ticket = make_ticket()
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, assignee=agent)
    assert ticket.status == Status.OPEN
    with pytest.raises(ValidationError) as exc:
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.NEW)
    assert "status" in exc.value.message_dict


def test_priority_change_alone_is_not_a_first_action(tenant, agent, make_ticket):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, priority=Priority.URGENT)
    assert ticket.status == Status.NEW


def test_solving_makes_the_solver_the_assignee(tenant, agent, make_ticket):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    assert ticket.status == Status.SOLVED and ticket.assignee == agent and ticket.solved_at is not None
    with tenant_scope(tenant):
        entry = ticket.messages.filter(kind=MessageKind.SYSTEM).latest("id")
    assert entry.changes["status"] == ["new", "solved"]
    assert entry.changes["assignee"] == [None, agent.get_full_name()]


def test_solving_without_an_assignee_by_an_api_key_is_refused(tenant, make_ticket):
    key, _raw = api_key_create(tenant=tenant, name="crm")
    with pytest.raises(ValidationError) as exc:
        ticket_update(ticket=make_ticket(), actor=ApiKeyUser(key), via=Via.API, status=Status.SOLVED)
    assert "status" in exc.value.message_dict


def test_closed_is_for_the_system_only_and_then_read_only(tenant, agent, make_ticket):
    ticket = make_ticket()
    with pytest.raises(ValidationError):
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.CLOSED)
    with tenant_scope(tenant):
        from django.db import transaction

        with transaction.atomic():
            ticket_close(ticket=lock_ticket(ticket))
    with pytest.raises(TicketClosed):
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.HIGH)
    with pytest.raises(TicketClosed):
        message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Anyone?", public=True)


def test_reopen_by_an_agent_counts(tenant, agent, make_ticket):
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.OPEN)
    assert ticket.reopen_count == 1


def test_required_custom_fields_are_enforced_when_solving(tenant, agent, make_ticket):
    CustomFieldFactory(tenant=tenant, key="order_id", label="Order number", kind=CustomFieldKind.TEXT,
                       required=True)
    ticket = make_ticket()
    with pytest.raises(ValidationError) as exc:
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    assert "custom_fields.order_id" in exc.value.message_dict
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, status=Status.SOLVED,
                           custom_fields={"order_id": "A-1001"})
    assert ticket.status == Status.SOLVED


# --- fields ------------------------------------------------------------------------------

def test_every_change_writes_one_system_entry_and_bumps_the_version(tenant, agent, make_ticket):
    team = TeamFactory(tenant=tenant, name="Returns")
    reason = ContactReasonFactory(tenant=tenant, name="Delivery")
    ticket = make_ticket(tags=["refund"])
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.HIGH, team=team,
                           add_tags=["late"], remove_tags=["refund"], contact_reason=reason,
                           subject="Order 1001 has not arrived", type=TicketType.INCIDENT)
    assert ticket.version == 2
    with tenant_scope(tenant):
        entry = ticket.messages.get(kind=MessageKind.SYSTEM)
        event = Event.objects.filter(type="ticket.updated").latest("id")
    assert entry.author_user == agent
    assert entry.ticket_version == 2
    assert entry.changes == {
        "subject": ["My order has not arrived", "Order 1001 has not arrived"],
        "priority": ["normal", "high"],
        "type": ["question", "incident"],
        "team": [None, "Returns"],
        "contact_reason": [None, "Delivery"],
        "tags": [["refund"], ["late"]],
    }
    assert event.payload["changes"]["team_id"] == [None, team.pk]
    # The same values again change nothing.
    again = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.HIGH, team=team)
    assert again.version == 2


@pytest.mark.parametrize("kind,options,value,stored", [
    (CustomFieldKind.TEXT, [], "  hello ", "hello"),
    (CustomFieldKind.NUMBER, [], "12.5", 12.5),
    (CustomFieldKind.NUMBER, [], 7, 7),
    (CustomFieldKind.DATE, [], "2025-03-07", "2025-03-07"),
    (CustomFieldKind.CHECKBOX, [], True, True),
    (CustomFieldKind.DROPDOWN, [{"value": "refund", "label": "Refund"}], "refund", "refund"),
    (CustomFieldKind.MULTI_SELECT, [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}], ["b", "a", "b"],
     ["a", "b"]),
])
def test_custom_field_values_are_typed(tenant, agent, make_ticket, kind, options, value, stored):
    CustomFieldFactory(tenant=tenant, key="field", kind=kind, options=options)
    ticket = ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, custom_fields={"field": value})
    assert ticket.custom_fields == {"field": stored}


@pytest.mark.parametrize("kind,options,value", [
    (CustomFieldKind.NUMBER, [], "twelve"),
    (CustomFieldKind.NUMBER, [], True),
    (CustomFieldKind.NUMBER, [], "NaN"),
    (CustomFieldKind.DATE, [], "07/03/2025"),
    (CustomFieldKind.CHECKBOX, [], "yes"),
    (CustomFieldKind.DROPDOWN, [{"value": "refund", "label": "Refund"}], "exchange"),
    (CustomFieldKind.MULTI_SELECT, [{"value": "a", "label": "A"}], ["a", "z"]),
    (CustomFieldKind.TEXT, [], 12),
])
def test_custom_field_values_of_the_wrong_type_are_refused(tenant, agent, make_ticket, kind, options, value):
    CustomFieldFactory(tenant=tenant, key="field", kind=kind, options=options)
    with pytest.raises(ValidationError) as exc:
        ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, custom_fields={"field": value})
    assert "custom_fields.field" in exc.value.message_dict


def test_custom_fields_merge_and_null_removes(tenant, agent, make_ticket):
    CustomFieldFactory(tenant=tenant, key="a", kind=CustomFieldKind.TEXT)
    CustomFieldFactory(tenant=tenant, key="b", kind=CustomFieldKind.TEXT)
    ticket = make_ticket(custom_fields={"a": "1", "b": "2"})
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, custom_fields={"a": None, "b": "3"})
    assert ticket.custom_fields == {"b": "3"}


def test_assignee_must_be_an_assignable_member(tenant, agent, light_agent, make_ticket):
    with pytest.raises(ValidationError):
        ticket_update(ticket=make_ticket(), actor=agent, via=Via.CONSOLE, assignee=light_agent)


def test_problem_and_incidents(tenant, agent, make_ticket):
    problem = make_ticket(type=TicketType.PROBLEM, subject="Courier outage")
    incident = make_ticket(type=TicketType.INCIDENT)
    incident = ticket_update(ticket=incident, actor=agent, via=Via.CONSOLE, problem=problem)
    assert incident.problem == problem
    with pytest.raises(ValidationError):
        ticket_update(ticket=problem, actor=agent, via=Via.CONSOLE, problem=incident)
    with pytest.raises(ValidationError):
        ticket_update(ticket=problem, actor=agent, via=Via.CONSOLE, problem=problem)


def test_light_agents_cannot_change_properties(tenant, light_agent, make_ticket):
    with pytest.raises(PermissionDenied):
        ticket_update(ticket=make_ticket(), actor=light_agent, via=Via.CONSOLE, priority=Priority.HIGH)


def test_stale_version_is_refused_with_the_newer_messages(tenant, agent, second_agent, make_ticket):
    ticket = make_ticket()
    seen = ticket.version
    message_add(ticket=ticket, actor=second_agent, via=Via.CONSOLE, body="I'm on it", public=True)
    with pytest.raises(StaleTicket) as exc:
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, expected_version=seen, priority=Priority.HIGH)
    with tenant_scope(tenant):
        newer = list(exc.value.newer_messages)
    # The reply, and the system entry of the new → open it caused.
    assert [m.kind for m in newer] == [MessageKind.PUBLIC, MessageKind.SYSTEM]
    assert exc.value.ticket.version == seen + 1
    ticket = ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, expected_version=seen + 1,
                           priority=Priority.HIGH)
    assert ticket.priority == Priority.HIGH


def test_hooks_run_inside_the_transaction_with_the_changes(tenant, agent, make_ticket):
    seen = []
    register_ticket_hook("test-recorder", lambda change: seen.append((change.created, dict(change.changes))),
                         order=999)
    try:
        ticket = make_ticket()
        ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.LOW)
    finally:
        ticket_hooks._HOOKS = [h for h in ticket_hooks._HOOKS if h[1] != "test-recorder"]
    assert seen[0][0] is True
    assert seen[-1] == (False, {"priority": ("normal", "low")})


def test_a_failing_hook_rolls_the_change_back(tenant, agent, make_ticket):
    ticket = make_ticket()

    def boom(change):
        raise RuntimeError("hook failed")

    register_ticket_hook("test-boom", boom, order=999)
    try:
        with pytest.raises(RuntimeError):
            ticket_update(ticket=ticket, actor=agent, via=Via.CONSOLE, priority=Priority.LOW)
    finally:
        ticket_hooks._HOOKS = [h for h in ticket_hooks._HOOKS if h[1] != "test-boom"]
    with tenant_scope(tenant):
        ticket.refresh_from_db()
        assert ticket.priority == Priority.NORMAL and ticket.version == 1
        assert not ticket.messages.filter(kind=MessageKind.SYSTEM).exists()


def test_on_hold_reads_as_open_to_customers():
    from tickets.selectors import status_for_customer

    assert status_for_customer(Status.ON_HOLD) == Status.OPEN
    assert [status_for_customer(s) for s in (Status.NEW, Status.PENDING, Status.SOLVED)] == [
        Status.NEW, Status.PENDING, Status.SOLVED]
