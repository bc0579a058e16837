"""Saved views: validation, who may change them, their ticket lists, paging and counts."""
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import OrganizationFactory, TeamFactory, agent_in
from tests.queries import QueryCounter
from tests.tickets.factories import SavedViewFactory, TagFactory, TicketFactory, TicketTagFactory
from tickets.models import SavedView, Ticket
from tickets.productivity.views import (
    DEFAULT_COLUMNS,
    InvalidCursor,
    clean_columns,
    clean_sort,
    saved_view_create,
    saved_view_delete,
    saved_view_list,
    saved_view_update,
    view_counts,
    view_ticket_page,
    view_tickets,
)
from tickets.selectors import ticket_tags

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
OPEN = {"all": [{"field": "status", "operator": "in", "value": ["new", "open"]}]}
MINE = {"all": [{"field": "assignee_id", "operator": "is", "value": "me"}]}


def api_key_actor(tenant):
    key, _raw = api_key_create(tenant=tenant, name="integration")
    return ApiKeyUser(key)


# --- validation -------------------------------------------------------------------------


def test_columns_come_from_the_allowlist():
    assert clean_columns(None) == DEFAULT_COLUMNS
    assert clean_columns(["number", "tags", "sla_next_due_at"]) == ["number", "tags", "sla_next_due_at"]
    for bad in (["number", "requester__email"], "number", ["number", "number"], [1]):
        with pytest.raises(ValidationError) as info:
            clean_columns(bad)
        assert "columns" in info.value.message_dict


def test_sort_comes_from_the_allowlist():
    assert clean_sort(None) == [{"field": "updated_at", "direction": "desc"}]
    assert clean_sort([{"field": "priority", "direction": "desc"}, {"field": "number"}]) == [
        {"field": "priority", "direction": "desc"}, {"field": "number", "direction": "asc"}]
    for bad in ([{"field": "subject; drop table x"}], [{"field": "id", "direction": "asc"}],
                [{"field": "number", "direction": "up"}], [{"field": "number"}, {"field": "number"}],
                [{"field": "number", "extra": 1}], [{"field": f} for f in ("number", "updated_at", "created_at",
                                                                          "solved_at")], "number"):
        with pytest.raises(ValidationError) as info:
            clean_sort(bad)
        assert "sort" in info.value.message_dict


# --- services ---------------------------------------------------------------------------


def test_agents_create_personal_views_and_admins_shared_ones(tenant, owner, agent, in_tenant):
    mine = saved_view_create(tenant=tenant, actor=agent, name="  My VIPs ", conditions=MINE)
    assert (mine.owner, mine.name, mine.columns) == (agent, "My VIPs", DEFAULT_COLUMNS)
    assert mine.conditions == {"all": MINE["all"], "any": []}
    with pytest.raises(PermissionDenied):
        saved_view_create(tenant=tenant, actor=agent, name="Everyone's", personal=False)
    shared = saved_view_create(tenant=tenant, actor=owner, name="Everyone's", personal=False)
    assert shared.owner is None
    robot = api_key_actor(tenant)
    assert saved_view_create(tenant=tenant, actor=robot, name="Robot's", personal=False).owner is None
    with pytest.raises(ValidationError) as info:
        saved_view_create(tenant=tenant, actor=robot, name="Robot's own", personal=True)
    assert "personal" in info.value.message_dict


@pytest.mark.parametrize("field, value", [
    ("conditions", {"all": [{"field": "status", "operator": "matches", "value": "open"}]}),
    ("conditions", "status = 'open' OR 1=1"),
    ("columns", ["password"]),
    ("sort", [{"field": "requester__name"}]),
    ("name", "   "),
    ("name", "Nul\x00"),
    ("conditions", {"all": [{"field": "subject", "operator": "contains", "value": "a\x00"}]}),
    ("conditions", {"all": [{"field": "subject", "operator": "contains", "value": "\ud800"}]}),
    ("position", -1),
])
def test_bad_input_names_the_field_and_saves_nothing(tenant, agent, in_tenant, field, value):
    values = {"name": "A view", field: value}
    with pytest.raises(ValidationError) as info:
        saved_view_create(tenant=tenant, actor=agent, **values)
    assert field in info.value.message_dict
    assert not SavedView.objects.exists()


def test_only_the_owner_changes_a_personal_view_and_only_admins_a_shared_one(tenant, owner, agent, in_tenant):
    colleague = agent_in(tenant, role=Role.AGENT)
    mine = saved_view_create(tenant=tenant, actor=agent, name="Mine")
    shared = saved_view_create(tenant=tenant, actor=owner, name="Shared", personal=False)
    for actor, view in ((colleague, mine), (owner, mine), (agent, shared)):
        with pytest.raises(PermissionDenied):
            saved_view_update(view=view, actor=actor, name="Hijacked")
        with pytest.raises(PermissionDenied):
            saved_view_delete(view=view, actor=actor)
    saved_view_update(view=mine, actor=agent, name="Still mine", sort=[{"field": "number", "direction": "asc"}])
    mine.refresh_from_db()
    assert (mine.name, mine.sort) == ("Still mine", [{"field": "number", "direction": "asc"}])
    saved_view_update(view=shared, actor=owner, is_active=False)
    saved_view_delete(view=mine, actor=agent)
    assert list(SavedView.objects.values_list("name", "is_active")) == [("Shared", False)]


def test_people_see_shared_views_and_their_own(tenant, owner, agent, in_tenant):
    colleague = agent_in(tenant, role=Role.AGENT)
    SavedViewFactory(tenant=tenant, name="B shared", position=1)
    SavedViewFactory(tenant=tenant, name="A shared", position=1)
    SavedViewFactory(tenant=tenant, name="Off", is_active=False)
    SavedViewFactory(tenant=tenant, name="Mine", owner=agent, position=0)
    SavedViewFactory(tenant=tenant, name="Theirs", owner=colleague)
    assert [v.name for v in saved_view_list(user=agent)] == ["Mine", "A shared", "B shared"]
    assert [v.name for v in saved_view_list(user=None)] == ["A shared", "B shared"]
    assert "Off" in [v.name for v in saved_view_list(user=agent, include_inactive=True)]


# --- ticket lists -----------------------------------------------------------------------


def _ticket(tenant, *, updated_at=NOW, **fields):
    ticket = TicketFactory(tenant=tenant, **fields)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=updated_at)
    return ticket


def test_me_is_the_person_looking(tenant, agent, in_tenant):
    colleague = agent_in(tenant, role=Role.AGENT)
    mine = _ticket(tenant, assignee=agent, status="open")
    theirs = _ticket(tenant, assignee=colleague, status="open")
    _ticket(tenant, status="open")
    view = SavedViewFactory(tenant=tenant, conditions=MINE)
    assert [t.pk for t in view_tickets(view=view, user=agent)] == [mine.pk]
    assert [t.pk for t in view_tickets(view=view, user=colleague)] == [theirs.pk]
    assert list(view_tickets(view=view, user=None)) == []  # an API key is nobody's "me"


def test_other_tenants_tickets_never_show(tenant, other_tenant, agent, in_tenant):
    _ticket(other_tenant, status="open")
    view = SavedViewFactory(tenant=tenant, conditions=OPEN)
    assert list(view_tickets(view=view, user=agent)) == []


def _walk(view, user, limit):
    seen, after, pages = [], None, 0
    while True:
        page = view_ticket_page(view=view, user=user, after=after, limit=limit)
        seen.extend(t.pk for t in page.tickets)
        pages += 1
        if page.next_after is None:
            return seen, pages
        after = page.next_after


@pytest.mark.parametrize("sort", [
    [{"field": "updated_at", "direction": "desc"}],
    [{"field": "updated_at", "direction": "asc"}],
    [{"field": "sla_next_due_at", "direction": "asc"}],
    [{"field": "sla_next_due_at", "direction": "desc"}, {"field": "number", "direction": "asc"}],
    [{"field": "priority", "direction": "desc"}, {"field": "updated_at", "direction": "desc"}],
    [{"field": "status", "direction": "asc"}, {"field": "solved_at", "direction": "desc"}],
])
def test_keyset_pages_cover_every_ticket_once_in_order(tenant, in_tenant, sort):
    # Ties on every key (same instants, same priority) and missing values (no SLA running).
    specs = []
    for i in range(11):
        specs.append(dict(
            status=["new", "open", "pending", "solved"][i % 4],
            priority=["urgent", "low", "high", "normal"][i % 3],
            updated_at=NOW - dt.timedelta(minutes=i // 3),
            sla_next_due_at=None if i % 3 == 0 else NOW + dt.timedelta(minutes=30 * (i % 2)),
            solved_at=NOW - dt.timedelta(hours=i % 2) if i % 4 == 3 else None,
        ))
    for spec in specs:
        _ticket(tenant, **spec)
    view = SavedViewFactory(tenant=tenant, conditions={}, sort=sort)
    everything = [t.pk for t in view_tickets(view=view, user=None)]
    assert len(everything) == 11
    for limit in (1, 2, 4, 50):
        seen, pages = _walk(view, None, limit)
        assert seen == everything
        assert pages == -(-11 // limit)  # no empty last page


def test_sorts_follow_the_domain_order(tenant, in_tenant):
    low = _ticket(tenant, priority="low")
    urgent = _ticket(tenant, priority="urgent")
    normal = _ticket(tenant, priority="normal")
    high = _ticket(tenant, priority="high")
    due_late = _ticket(tenant, sla_next_due_at=NOW + dt.timedelta(hours=2))
    due_soon = _ticket(tenant, sla_next_due_at=NOW + dt.timedelta(minutes=5))
    by_priority = SavedViewFactory(tenant=tenant, conditions={"all": [
        {"field": "sla_policy_id", "operator": "is_not_set"}]}, sort=[{"field": "priority", "direction": "desc"}])
    ranked = [t.pk for t in view_tickets(view=by_priority, user=None)]
    assert ranked.index(urgent.pk) < ranked.index(high.pk) < ranked.index(normal.pk) < ranked.index(low.pk)
    by_due = SavedViewFactory(tenant=tenant, conditions={}, sort=[{"field": "sla_next_due_at", "direction": "asc"}])
    assert [t.pk for t in view_tickets(view=by_due, user=None)][:2] == [due_soon.pk, due_late.pk]


def test_a_cursor_only_works_for_the_sort_that_issued_it(tenant, in_tenant):
    for _ in range(3):
        _ticket(tenant)
    view = SavedViewFactory(tenant=tenant, conditions={})
    cursor = view_ticket_page(view=view, user=None, limit=1).next_after
    assert cursor
    other = SavedViewFactory(tenant=tenant, conditions={}, sort=[{"field": "number", "direction": "asc"}])
    for bad in ("garbage", "!!!", cursor + "x", cursor[:-3], "eyJzIjoxfQ"):
        with pytest.raises(InvalidCursor):
            list(view_tickets(view=view, user=None, after=bad))
    with pytest.raises(InvalidCursor):
        list(view_tickets(view=other, user=None, after=cursor))


def test_list_queries_do_not_grow_with_rows(tenant, agent, in_tenant):
    org = OrganizationFactory(tenant=tenant)
    team = TeamFactory(tenant=tenant)
    view = SavedViewFactory(tenant=tenant, conditions={}, columns=list(DEFAULT_COLUMNS) + ["tags", "organization"])

    def add(n):
        for _ in range(n):
            ticket = _ticket(tenant, assignee=agent, team=team, organization=org)
            TicketTagFactory(tenant=tenant, ticket=ticket, tag=TagFactory(tenant=tenant))

    def touch_everything(page):
        for t in page.tickets:
            (t.requester.name, t.assignee and t.assignee.full_name, t.team and t.team.name,
             t.organization and t.organization.name, [tag.name for tag in ticket_tags(t)])

    add(2)
    with QueryCounter(connection) as few:
        touch_everything(view_ticket_page(view=view, user=agent, limit=50))
    add(10)
    with QueryCounter(connection) as many:
        page = view_ticket_page(view=view, user=agent, limit=50)
        touch_everything(page)
    assert len(page.tickets) == 12
    assert len(many) == len(few) <= 5  # the rows with their relations, then one query per prefetch


def test_counts_stop_at_the_cap(tenant, agent, in_tenant):
    for _ in range(5):
        _ticket(tenant, status="open", assignee=agent)
    _ticket(tenant, status="pending")
    busy = SavedViewFactory(tenant=tenant, conditions=OPEN)
    mine = SavedViewFactory(tenant=tenant, conditions=MINE)
    quiet = SavedViewFactory(tenant=tenant, conditions={"all": [{"field": "status", "operator": "is",
                                                                 "value": "pending"}]})
    with QueryCounter(connection) as queries:
        counts = view_counts(views=[busy, mine, quiet], user=agent, cap=3)
    assert len(queries) == 3
    assert all("LIMIT 4" in q["sql"] for q in queries)
    assert (counts[busy.pk].count, counts[busy.pk].capped, counts[busy.pk].display) == (3, True, "3+")
    assert (counts[quiet.pk].count, counts[quiet.pk].capped, counts[quiet.pk].display) == (1, False, "1")
    assert view_counts(views=[mine], user=None)[mine.pk].count == 0
    assert view_counts(views=[busy], user=agent)[busy.pk].display == "5"
