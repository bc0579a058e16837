"""The tickets API contract (issue 3, item 10): create, list with filters, detail, change,
merge, messages; errors; constant query counts."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.audit.models import AuditEntry
from helpdesk.events.models import Event
from helpdesk.people.models import Contact, ContactIdentity
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import ContactFactory, ContactIdentityFactory, TeamFactory, agent_in
from tests.tickets.core_helpers import light_agent, make_ticket, requester  # noqa: F401
from tests.tickets.factories import CustomFieldFactory, SlaTimerFactory
from tests.queries import QueryCounter
from tickets.models import CustomFieldKind, Message, MessageKind, Status, Ticket, Via
from tickets.services import message_add, ticket_update

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {"id", "number", "status", "priority", "type", "requester", "assignee_id", "team_id", "tags",
                   "custom_fields", "sla", "created_at", "updated_at"}


def _session(tenant, user) -> APIClient:
    client = APIClient(HTTP_HOST=f"{tenant.slug}.localhost")
    client.force_login(user)
    return client


def _queries(fn) -> int:
    fn()  # warm: the API key's last_used_at is written at most once a minute
    with QueryCounter(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


# --- create ------------------------------------------------------------------------------

def test_create_with_a_new_requester_by_email(api_client, tenant, agent):
    team = TeamFactory(tenant=tenant, name="Returns")
    CustomFieldFactory(tenant=tenant, key="order_id", kind=CustomFieldKind.TEXT)
    response = api_client.post("/api/v1/tickets/", {
        "subject": "Order 1001 has not arrived", "description": "Ordered two weeks ago.",
        "requester": {"email": "Jamie@Mail.example", "name": "Jamie Walker"},
        "priority": "high", "type": "incident", "tags": ["Late", "courier"],
        "custom_fields": {"order_id": "1001"}, "assignee_id": agent.pk, "team_id": team.pk,
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert CONTRACT_FIELDS <= set(body)
    assert body["number"] == 1 and body["status"] == "open"  # assigned at creation
    assert (body["priority"], body["type"]) == ("high", "incident")
    assert body["requester"]["email"] == "jamie@mail.example" and body["requester"]["name"] == "Jamie Walker"
    assert (body["assignee_id"], body["team_id"]) == (agent.pk, team.pk)
    assert body["tags"] == ["courier", "late"]
    assert body["custom_fields"] == {"order_id": "1001"}
    assert isinstance(body["sla"], list)
    with tenant_scope(tenant):
        ticket = Ticket.objects.get(pk=body["id"])
        message = ticket.messages.get()
        assert message.author_contact_id == body["requester"]["id"]  # an API key files for the customer
        assert message.via == Via.API and ticket.channel == "api"
        assert Event.objects.filter(type="ticket.created").count() == 1
        assert AuditEntry.objects.filter(action="ticket.created").get().actor_label.startswith("API key")


def test_create_finds_the_existing_contact_by_email(api_client, tenant, requester):
    response = api_client.post("/api/v1/tickets/", {"subject": "Hello", "description": "x",
                                                    "requester": {"email": "AYSE@example.org"}}, format="json")
    assert response.status_code == 201
    assert response.json()["requester"]["id"] == requester.pk
    with tenant_scope(tenant):
        assert Contact.objects.count() == 1 and ContactIdentity.objects.count() == 1


def test_create_by_requester_id(api_client, tenant, requester):
    response = api_client.post("/api/v1/tickets/", {"subject": "Hello", "requester_id": requester.pk},
                               format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "new"


@pytest.mark.parametrize("payload,field", [
    ({"subject": "x"}, "requester"),
    ({"subject": "x", "requester_id": 1, "requester": {"email": "a@b.example"}}, "requester"),
    ({"subject": "", "requester": {"email": "a@b.example"}}, "subject"),
    ({"subject": "x", "requester": {"email": "not-an-email"}}, "requester.email"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "priority": "critical"}, "priority"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "asignee_id": 1}, "asignee_id"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "custom_fields": {"nope": 1}}, "custom_fields.nope"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "tags": "a,b"}, "tags"),
    ({"subject": "x", "requester_id": 999999}, "requester_id"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "assignee_id": 999999}, "assignee_id"),
    ({"subject": "x", "requester": {"email": "a@b.example"}, "team_id": 999999}, "team_id"),
])
def test_create_refuses_bad_input_naming_the_field(api_client, tenant, payload, field):
    response = api_client.post("/api/v1/tickets/", payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"], response.json()
    with tenant_scope(tenant):
        assert not Ticket.objects.exists()


def test_another_tenants_people_are_unknown(api_client, tenant, other_tenant, other_agent):
    foreign_contact = ContactFactory(tenant=other_tenant)
    team = TeamFactory(tenant=other_tenant)
    for payload, field in (({"requester_id": foreign_contact.pk}, "requester_id"),
                           ({"requester": {"email": "a@b.example"}, "assignee_id": other_agent.pk}, "assignee_id"),
                           ({"requester": {"email": "a@b.example"}, "team_id": team.pk}, "team_id")):
        response = api_client.post("/api/v1/tickets/", {"subject": "x", **payload}, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"]


def test_read_only_keys_cannot_create(tenant):
    _key, raw = api_key_create(tenant=tenant, name="bi", scopes=["tickets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/v1/tickets/", {"subject": "x", "requester": {"email": "a@b.example"}},
                           format="json")
    assert response.status_code == 403
    assert client.get("/api/v1/tickets/").status_code == 200


def test_idempotency_key_creates_once(api_client, tenant):
    payload = {"subject": "Once", "requester": {"email": "a@b.example"}}
    first = api_client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    with tenant_scope(tenant):
        assert Ticket.objects.count() == 1


# --- list --------------------------------------------------------------------------------

def test_list_filters(api_client, tenant, agent, make_ticket, requester):
    team = TeamFactory(tenant=tenant)
    other = ContactFactory(tenant=tenant, name="Bob Builder")
    ContactIdentityFactory(tenant=tenant, contact=other, value="bob@builder.example")
    a = make_ticket(subject="Refund please", tags=["refund", "vip"], priority="high")
    b = make_ticket(subject="Broken zipper", requester=other, team=team)
    c = ticket_update(ticket=make_ticket(subject="Invoice copy"), actor=agent, via=Via.CONSOLE, assignee=agent,
                      status=Status.PENDING)

    def ids(query: str) -> list[int]:
        response = api_client.get(f"/api/v1/tickets/{query}")
        assert response.status_code == 200, response.json()
        return sorted(t["id"] for t in response.json()["results"])

    assert ids("") == sorted([a.pk, b.pk, c.pk])
    assert ids("?status=new") == sorted([a.pk, b.pk])
    assert ids("?status=pending,open") == [c.pk]
    assert ids("?priority=high") == [a.pk]
    assert ids(f"?assignee_id={agent.pk}") == [c.pk]
    assert ids("?assignee_id=none") == sorted([a.pk, b.pk])
    assert ids(f"?team_id={team.pk}") == [b.pk]
    assert ids(f"?requester_id={other.pk}") == [b.pk]
    assert ids("?tag=refund") == [a.pk]
    assert ids("?tag=refund,vip") == [a.pk]
    assert ids("?tag=nothing") == []
    assert ids("?q=zipper") == [b.pk]
    assert ids("?q=bob@builder") == [b.pk]
    assert ids("?q=builder") == [b.pk]
    assert ids(f"?q=%23{c.number}") == [c.pk]
    future = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert ids(f"?updated_since={future.replace('+', '%2B')}") == []


@pytest.mark.parametrize("query,field", [("?status=bogus", "status"), ("?priority=%2C", "priority"),
                                         ("?assignee_id=me", "assignee_id"), ("?team_id=x", "team_id"),
                                         ("?updated_since=yesterday", "updated_since"),
                                         ("?ordering=subject", "ordering"), ("?cursor=!!!", "cursor")])
def test_list_refuses_bad_parameters(api_client, tenant, query, field):
    response = api_client.get(f"/api/v1/tickets/{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_list_ordering_and_cursor_pages(api_client, tenant, make_ticket):
    tickets = [make_ticket(subject=f"Ticket {i}") for i in range(5)]
    response = api_client.get("/api/v1/tickets/?ordering=number&page_size=2")
    body = response.json()
    assert [t["number"] for t in body["results"]] == [1, 2]
    seen = [t["number"] for t in body["results"]]
    while body["next"]:
        body = api_client.get(body["next"]).json()
        seen += [t["number"] for t in body["results"]]
    assert seen == [t.number for t in tickets]
    newest = api_client.get("/api/v1/tickets/?ordering=-created_at").json()["results"]
    assert [t["number"] for t in newest] == [5, 4, 3, 2, 1]


def test_list_query_count_does_not_grow_with_rows(api_client, tenant, agent, make_ticket, django_assert_num_queries):
    team = TeamFactory(tenant=tenant)

    def fill(n):
        for _ in range(n):
            ticket = make_ticket(tags=["a", "b"], team=team, assignee=agent, actor=agent, via=Via.CONSOLE)
            SlaTimerFactory(tenant=tenant, ticket=ticket)

    fill(2)
    few = _queries(lambda: api_client.get("/api/v1/tickets/"))
    # key, tickets (+ people, team), tags, requester emails, SLA timers
    assert few <= 6, few
    fill(8)
    with django_assert_num_queries(few):
        response = api_client.get("/api/v1/tickets/")
    assert len(response.json()["results"]) == 10


# --- detail and change -------------------------------------------------------------------

def test_detail_and_patch(api_client, tenant, agent, make_ticket):
    ticket = make_ticket()
    body = api_client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert body["subject"] == "My order has not arrived" and body["version"] == 1
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {
        "priority": "urgent", "assignee_id": agent.pk, "add_tags": ["VIP"], "expected_version": 1,
    }, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["priority"], body["assignee_id"], body["status"], body["tags"], body["version"]) == (
        "urgent", agent.pk, "open", ["vip"], 2)
    with tenant_scope(tenant):
        entry = Message.objects.get(ticket=ticket, kind=MessageKind.SYSTEM)
        assert entry.via == Via.API and entry.changes["priority"] == ["normal", "urgent"]


def test_patch_stale_version_is_a_409_with_what_changed(api_client, tenant, agent, make_ticket):
    ticket = make_ticket()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Replied meanwhile", public=True)
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "low", "expected_version": 1},
                                format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "stale_ticket"
    assert body["ticket"]["version"] == 2 and body["ticket"]["status"] == "open"
    assert [m["body_text"] for m in body["messages"] if m["kind"] == "public"] == ["Replied meanwhile"]
    with tenant_scope(tenant):
        assert Ticket.objects.get(pk=ticket.pk).priority == "normal"


def test_closed_tickets_are_read_only(api_client, tenant, make_ticket):
    from django.db import transaction

    from tickets.services.tickets import lock_ticket, ticket_close

    ticket = make_ticket()
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    with tenant_scope(tenant), transaction.atomic():
        ticket_close(ticket=lock_ticket(ticket))
    response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", {"priority": "low"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "ticket_closed"
    response = api_client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "x", "public": True},
                               format="json")
    assert response.status_code == 409


def test_patch_refuses_bad_input(api_client, tenant, make_ticket, other_tenant):
    ticket = make_ticket()
    for payload, field in (({"status": "new"}, "status"), ({"assignee_id": 999999}, "assignee_id"),
                           ({"problem_id": ticket.pk}, "problem"), ({"custom_fields": {"x": 1}}, "custom_fields.x"),
                           ({"expected_version": 0}, "expected_version"), ({"version": 3}, "version")):
        response = api_client.patch(f"/api/v1/tickets/{ticket.pk}/", payload, format="json")
        assert response.status_code == 400, (payload, response.json())
        assert field in response.json()["error"]["fields"], (payload, response.json())


def test_merge_endpoint(api_client, tenant, make_ticket):
    target, source = make_ticket(), make_ticket()
    response = api_client.post(f"/api/v1/tickets/{target.pk}/merge/", {"ticket_ids": [source.pk]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["message_count"] == 2
    assert api_client.get(f"/api/v1/tickets/{source.pk}/").json()["merged_into_id"] == target.pk
    response = api_client.post(f"/api/v1/tickets/{target.pk}/merge/", {"ticket_ids": [999999]}, format="json")
    assert response.status_code == 400 and "ticket_ids" in response.json()["error"]["fields"]
    response = api_client.post(f"/api/v1/tickets/{target.pk}/merge/", {"ticket_ids": [source.pk]}, format="json")
    assert response.status_code == 409


# --- messages ----------------------------------------------------------------------------

def test_messages_list_and_reply(api_client, tenant, make_ticket):
    ticket = make_ticket()
    response = api_client.post(f"/api/v1/tickets/{ticket.pk}/messages/",
                               {"body": "<p>Hello <script>x</script>there</p>", "public": True}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["public"] is True and body["body"] == "<p>Hello there</p>" and body["author"]["kind"] == "system"
    note = api_client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "internal", "public": False},
                           format="json").json()
    assert note["kind"] == "note"
    listing = api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/").json()["results"]
    assert [m["kind"] for m in listing] == ["public", "public", "system", "note"]  # new -> open
    assert listing[0]["author"] == {"kind": "customer", "id": ticket.requester_id, "name": "Ayşe Yılmaz"}


def test_messages_refuse_bad_input(api_client, tenant, make_ticket):
    ticket = make_ticket()
    for payload, field in (({"body": "x"}, "public"), ({"public": True}, "body"),
                           ({"body": "", "public": True}, "body"), ({"body": "x", "public": "maybe"}, "public"),
                           ({"body": "x", "public": True, "author": 1}, "author")):
        response = api_client.post(f"/api/v1/tickets/{ticket.pk}/messages/", payload, format="json")
        assert response.status_code == 400, (payload, response.json())
        assert field in response.json()["error"]["fields"]


def test_message_stale_guard(api_client, tenant, agent, make_ticket):
    ticket = make_ticket()
    message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body="Meanwhile", public=False)
    response = api_client.post(f"/api/v1/tickets/{ticket.pk}/messages/",
                               {"body": "Hello", "public": True, "expected_version": 1}, format="json")
    assert response.status_code == 409 and response.json()["messages"][0]["body_text"] == "Meanwhile"


def test_light_agents_can_read_but_not_write_through_the_session(tenant, light_agent, make_ticket):
    ticket = make_ticket()
    client = _session(tenant, light_agent)
    assert client.get(f"/api/v1/tickets/{ticket.pk}/messages/").status_code == 200
    assert client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"body": "x", "public": True},
                       format="json").status_code == 403


def test_session_agent_reply_is_an_agent_reply(tenant, agent, make_ticket):
    ticket = make_ticket()
    response = _session(tenant, agent).post(f"/api/v1/tickets/{ticket.pk}/messages/",
                                            {"body": "On it", "public": True}, format="json")
    assert response.status_code == 201
    assert response.json()["author"] == {"kind": "agent", "id": agent.pk, "name": agent.get_full_name()}
    with tenant_scope(tenant):
        ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.public_agent_reply_count == 1


def test_conversation_query_count_does_not_grow_with_messages(api_client, tenant, agent, make_ticket, settings,
                                                              tmp_path, django_assert_num_queries):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    ticket = make_ticket()

    def add(n):
        for i in range(n):
            message_add(ticket=ticket, actor=agent, via=Via.CONSOLE, body=f"Reply {i}", public=bool(i % 2),
                        attachments=[SimpleUploadedFile(f"f{i}.txt", b"data")])

    add(2)
    few = _queries(lambda: api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/"))
    assert few <= 4, few  # key, ticket, messages (+ authors), attachments
    add(10)
    with django_assert_num_queries(few):
        response = api_client.get(f"/api/v1/tickets/{ticket.pk}/messages/")
    assert len(response.json()["results"]) > 12


def test_detail_query_count_is_constant(api_client, tenant, make_ticket):
    few_tags = make_ticket(tags=["a"])
    many_tags = make_ticket(tags=[f"t{i}" for i in range(10)])
    assert _queries(lambda: api_client.get(f"/api/v1/tickets/{few_tags.pk}/")) == _queries(
        lambda: api_client.get(f"/api/v1/tickets/{many_tags.pk}/"))


def test_not_found_for_missing_or_foreign_tickets(api_client, other_api_client, make_ticket):
    ticket = make_ticket()
    assert api_client.get("/api/v1/tickets/999999/").status_code == 404
    assert api_client.get("/api/v1/tickets/99999999999999999999999/").status_code == 404
    for method, path in (("get", f"/api/v1/tickets/{ticket.pk}/"), ("patch", f"/api/v1/tickets/{ticket.pk}/"),
                         ("get", f"/api/v1/tickets/{ticket.pk}/messages/"),
                         ("post", f"/api/v1/tickets/{ticket.pk}/messages/")):
        response = getattr(other_api_client, method)(path, {"body": "x", "public": True}, format="json") \
            if method != "get" else other_api_client.get(path)
        assert response.status_code == 404


def test_owner_session_can_do_what_an_agent_does(tenant, owner, make_ticket):
    client = _session(tenant, owner)
    response = client.post("/api/v1/tickets/", {"subject": "From the console API", "requester_id":
                                                make_ticket().requester_id, "description": "Called us"},
                           format="json")
    assert response.status_code == 201
    with tenant_scope(tenant):
        message = Ticket.objects.get(pk=response.json()["id"]).messages.get()
    assert message.author_user_id == owner.pk


def test_role_checks_apply_to_session_users(tenant, make_ticket):
    analyst = agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test")
    assert _session(tenant, analyst).get("/api/v1/tickets/").status_code == 403


def test_sla_entries_come_from_the_prefetched_timers(api_client, tenant, make_ticket):
    ticket = make_ticket()
    SlaTimerFactory(tenant=tenant, ticket=ticket, metric="first_reply", due_at=timezone.now())
    body = api_client.get(f"/api/v1/tickets/{ticket.pk}/").json()
    first = [entry for entry in body["sla"] if entry["metric"] == "first_reply"]
    assert first and {"metric", "due_at", "status"} <= set(first[0])


def test_selector_takes_the_shared_conditions(tenant, agent, make_ticket):
    from tickets.selectors import ticket_list

    urgent = make_ticket(priority="urgent", tags=["vip"])
    make_ticket(priority="low")
    conditions = {"all": [{"field": "priority", "operator": "is", "value": "urgent"}]}
    with tenant_scope(tenant):
        assert [t.pk for t in ticket_list(tenant=tenant, conditions=conditions, user=agent)] == [urgent.pk]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Istanbul"])
def test_the_direct_ticket_output_equals_the_generic_serializer(tenant, agent, make_ticket, zone):
    """``TicketOutput.to_representation`` is hand-built for speed: it must equal DRF's own walk
    over the declared fields, for a ticket with every kind of value set and one with none."""
    from rest_framework import serializers as drf

    from tickets.api.serializers import TicketOutput
    from tickets.selectors import ticket_detail_queryset

    ContactIdentityFactory(tenant=tenant, contact=ContactFactory(tenant=tenant), kind="email",
                           value="nobody@example.com")
    CustomFieldFactory(tenant=tenant, key="order_id", kind=CustomFieldKind.TEXT)
    team = TeamFactory(tenant=tenant, name="Returns")
    problem = make_ticket(subject="Courier outage", type="problem")
    full = make_ticket(subject="Parcel lost", tags=["vip", "courier"], custom_fields={"order_id": "A-1"},
                       priority="urgent", type="incident")
    ticket_update(ticket=full, actor=agent, via=Via.CONSOLE, assignee=agent, team=team, problem=problem)
    message_add(ticket=full, actor=agent, via=Via.CONSOLE, body="On it.", public=True)
    ticket_update(ticket=full, actor=agent, via=Via.CONSOLE, status=Status.SOLVED)
    SlaTimerFactory(tenant=tenant, ticket=full, metric="first_reply", due_at=timezone.now(),
                    breached_at=timezone.now(), status="breached")
    bare = make_ticket(subject="Hello")
    with tenant_scope(tenant), timezone.override(zone):
        tickets = list(ticket_detail_queryset(tenant=tenant).filter(pk__in=[full.pk, bare.pk])
                       .order_by("pk"))
        for ticket in tickets:
            direct = TicketOutput(ticket).data
            generic = drf.ModelSerializer.to_representation(TicketOutput(), ticket)
            assert list(direct) == list(generic) == TicketOutput.Meta.fields
            for name in generic:
                assert direct[name] == generic[name], name
        assert tickets[0].solved_at is not None and tickets[0].tags.all() and tickets[0].sla_timers.all()
