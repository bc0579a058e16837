"""Whatever JSON arrives in conditions and actions, the answer is a 201 or a 4xx, never a 5xx."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytestmark = pytest.mark.django_db

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                    st.sampled_from(["status", "priority", "notify", "webhook", "add_tags", "assignee_id",
                                     "custom_fields.x", "is", "in", "contains", "changed.status", "to", "me",
                                     "message.kind", "event.via", "hours_since_status_changed", "gte"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["field", "operator", "value", "all", "any", "to", "text", "user_id", "subject", "body", "webhook_id"]),
        inner, max_size=4)), max_leaves=12)
conditions = st.one_of(json_values, st.fixed_dictionaries({"all": st.lists(
    st.fixed_dictionaries({"field": scalars, "operator": scalars, "value": json_values}), max_size=3)}))
actions = st.one_of(json_values, st.lists(st.fixed_dictionaries({"field": scalars, "value": json_values}),
                                          max_size=3))

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(conditions=conditions, actions=actions, events=st.one_of(st.just(["ticket.updated"]), json_values))
def test_trigger_create_never_fails_on_the_server(api_client, conditions, actions, events):
    response = api_client.post("/api/v1/triggers/", {"name": "Fuzz", "events": events, "conditions": conditions,
                                                     "actions": actions}, format="json")
    assert response.status_code in (201, 400), response.content


@SETTINGS
@given(conditions=conditions, actions=actions)
def test_automation_create_never_fails_on_the_server(api_client, conditions, actions):
    response = api_client.post("/api/v1/automations/", {"name": "Fuzz", "conditions": conditions,
                                                        "actions": actions}, format="json")
    assert response.status_code in (201, 400), response.content
