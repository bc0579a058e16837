"""The condition language: validation, ORM compilation and in-Python evaluation agree."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings, strategies as st

from helpdesk.tenancy.context import tenant_scope
from tests.factories import TeamFactory, UserFactory
from tests.tickets.factories import TagFactory, TicketFactory, TicketTagFactory
from tickets.conditions import FIELDS, conditions_match, conditions_q, validate_conditions
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("bad", [
    "status = 'open'",
    {"all": [{"field": "status", "operator": "is", "value": "opened"}]},
    {"all": [{"field": "id; DROP TABLE tickets_ticket", "operator": "is", "value": 1}]},
    {"all": [{"field": "requester__user__password", "operator": "is", "value": "x"}]},
    {"all": [{"field": "custom_fields.a')--", "operator": "is", "value": 1}]},
    {"all": [{"field": "status", "operator": "regex", "value": ".*"}]},
    {"all": [{"field": "assignee_id", "operator": "is", "value": "5"}]},
    {"all": [{"field": "tags", "operator": "contains_any", "value": []}]},
    {"all": [{"field": "changed.status", "operator": "to", "value": "open"}]},
    {"none": []},
    {"all": {"field": "status"}},
])
def test_bad_conditions_are_refused_with_a_message(bad):
    with pytest.raises(ValidationError) as info:
        validate_conditions(bad)
    assert info.value.messages


def test_changed_fields_are_for_triggers_only():
    data = {"all": [{"field": "changed.status", "operator": "to", "value": "open"}]}
    assert validate_conditions(data, allow_changes=True)["all"][0]["field"] == "changed.status"


@pytest.fixture
def tickets(tenant):
    team = TeamFactory(tenant=tenant)
    agent = UserFactory()
    refund, vip = TagFactory(tenant=tenant, name="refund"), TagFactory(tenant=tenant, name="vip")
    made = []
    specs = [
        dict(status="new", priority="low", type="question"),
        dict(status="open", priority="normal", assignee=agent, team=team, custom_fields={"order": "A-1", "amount": 5}),
        dict(status="open", priority="urgent", type="incident", custom_fields={"amount": 50}),
        dict(status="pending", priority="high", assignee=agent, subject="Refund for order 7"),
        dict(status="solved", priority="normal", team=team, custom_fields={"order": ""}),
        dict(status="on_hold", priority="low", channel="email", language="tr"),
    ]
    for i, spec in enumerate(specs):
        ticket = TicketFactory(tenant=tenant, **spec)
        ago = NOW - dt.timedelta(hours=10 * i)
        with tenant_scope(tenant):
            Ticket.objects.filter(pk=ticket.pk).update(
                created_at=ago, updated_at=ago, status_changed_at=ago,
                sla_next_due_at=NOW + dt.timedelta(minutes=30 * (i - 2)) if i % 2 else None)
        made.append(ticket)
    TicketTagFactory(tenant=tenant, ticket=made[1], tag=refund)
    TicketTagFactory(tenant=tenant, ticket=made[3], tag=refund)
    TicketTagFactory(tenant=tenant, ticket=made[3], tag=vip)
    return {"tickets": made, "agent": agent, "team": team}


def _both(tenant, data, user=None):
    with tenant_scope(tenant):
        via_db = set(Ticket.objects.filter(conditions_q(data, user=user, now=NOW)).values_list("pk", flat=True))
        via_python = {t.pk for t in Ticket.objects.prefetch_related("tags")
                      if conditions_match(t, data, user=user, now=NOW)}
    return via_db, via_python


def test_examples(tenant, tickets):
    agent = tickets["agent"]
    mine_open = {"all": [{"field": "assignee_id", "operator": "is", "value": "me"},
                         {"field": "status", "operator": "in", "value": ["open", "pending"]}]}
    db, py = _both(tenant, mine_open, user=agent)
    assert db == py == {tickets["tickets"][1].pk, tickets["tickets"][3].pk}
    refund_or_urgent = {"any": [{"field": "tags", "operator": "contains", "value": "refund"},
                                {"field": "priority", "operator": "gte", "value": "urgent"}]}
    db, py = _both(tenant, refund_or_urgent)
    assert db == py == {tickets["tickets"][i].pk for i in (1, 2, 3)}
    old = {"all": [{"field": "hours_since_created", "operator": "gte", "value": 30}]}
    db, py = _both(tenant, old)
    assert db == py == {tickets["tickets"][i].pk for i in (3, 4, 5)}


def test_an_empty_condition_set_matches_everything(tenant, tickets):
    db, py = _both(tenant, {})
    assert db == py == {t.pk for t in tickets["tickets"]}


def _condition_strategy(team_id, agent_id):
    scalar_for = {
        "status": st.sampled_from(FIELDS["status"].choices),
        "priority": st.sampled_from(FIELDS["priority"].choices),
        "type": st.sampled_from(FIELDS["type"].choices),
        "channel": st.sampled_from(["email", "web"]),
        "language": st.sampled_from(["en", "tr"]),
        "assignee_id": st.sampled_from([agent_id, "me", 999999]),
        "team_id": st.sampled_from([team_id, 999999]),
        "tags": st.sampled_from(["refund", "vip", "none"]),
        "subject": st.sampled_from(["refund", "order", "zzz"]),
        "is_assigned": st.booleans(),
        "hours_since_created": st.integers(-5, 60),
        "hours_since_status_changed": st.integers(0, 60),
        "minutes_to_sla_due": st.integers(-90, 90),
        "custom_fields.order": st.sampled_from(["A-1", "", "B"]),
        "custom_fields.amount": st.sampled_from([1, 5, 20, 50]),
    }

    def build(field):
        spec_ops = FIELDS[field].operators if field in FIELDS else (
            ("is", "is_not", "is_set", "is_not_set") if field == "custom_fields.order" else ("gt", "gte", "lt", "lte"))
        return st.sampled_from(spec_ops).flatmap(lambda op: (
            st.just({"field": field, "operator": op}) if op in ("is_set", "is_not_set") else
            st.lists(scalar_for[field], min_size=1, max_size=3).map(
                lambda vs: {"field": field, "operator": op, "value": vs})
            if op in ("in", "not_in", "contains_any", "contains_none") else
            scalar_for[field].map(lambda v: {"field": field, "operator": op, "value": v})))

    one = st.sampled_from(sorted(scalar_for)).flatmap(build)
    return st.fixed_dictionaries({"all": st.lists(one, max_size=3), "any": st.lists(one, max_size=2)})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_database_and_python_agree_on_every_condition_set(tenant, tickets, data):
    conditions = data.draw(_condition_strategy(tickets["team"].pk, tickets["agent"].pk))
    db, py = _both(tenant, conditions, user=tickets["agent"])
    assert db == py, conditions


def test_a_missing_custom_field_is_not_any_value(tenant, tickets):
    data = {"all": [{"field": "custom_fields.order", "operator": "is_not", "value": "A-1"}]}
    db, py = _both(tenant, data)
    assert db == py == {t.pk for i, t in enumerate(tickets["tickets"]) if i != 1}
    data = {"all": [{"field": "custom_fields.order", "operator": "not_contains", "value": "a-"}]}
    db, py = _both(tenant, data)
    assert db == py == {t.pk for i, t in enumerate(tickets["tickets"]) if i != 1}
