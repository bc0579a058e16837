"""Whatever JSON arrives, the productivity endpoints answer 2xx/4xx, never 5xx."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.tickets.factories import MacroFactory, SavedViewFactory, TicketFactory

pytestmark = pytest.mark.django_db

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.sampled_from(["me", "open", "pending", "solved", "urgent", "\x00", "{{ request }}",
                                     "tr", "en", "status", "assignee", "add_tags", "custom_fields"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8) | st.sampled_from(
        ["field", "operator", "value", "all", "any", "direction", "en", "tr"]), inner, max_size=4)), max_leaves=12)
condition = st.fixed_dictionaries({"field": st.sampled_from(["status", "assignee_id", "tags", "subject",
                                                             "custom_fields.x", "minutes_to_sla_due", "bogus"]),
                                   "operator": st.sampled_from(["is", "in", "contains", "lte", "is_set", "x"]),
                                   "value": json_values})
action = st.fixed_dictionaries({"field": st.sampled_from(["status", "assignee", "team", "add_tags", "set_tags",
                                                          "custom_fields", "contact_reason", "bogus"]),
                                "value": json_values})
view_body = st.fixed_dictionaries({}, optional={
    "name": json_values | st.text(max_size=30), "conditions": json_values | st.fixed_dictionaries(
        {"all": st.lists(condition, max_size=3)}), "columns": json_values, "sort": json_values,
    "personal": json_values, "position": json_values, "is_active": json_values})
macro_body = st.fixed_dictionaries({}, optional={
    "name": st.text(max_size=30), "actions": json_values | st.lists(action, max_size=3),
    "reply": json_values | st.dictionaries(st.sampled_from(["en", "tr", "de"]), st.text(max_size=40)),
    "reply_public": json_values, "description": json_values, "personal": json_values})
bulk_body = st.fixed_dictionaries({}, optional={
    "ids": json_values | st.lists(st.integers(min_value=-5, max_value=2 ** 64), max_size=4),
    "changes": json_values | st.dictionaries(st.sampled_from(["status", "assignee_id", "add_tags", "team_id",
                                                              "tags", "custom_fields", "x"]), json_values,
                                             max_size=3)})
apply_body = st.fixed_dictionaries({}, optional={"macro_id": json_values, "send": json_values,
                                                 "expected_version": json_values})

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


@FUZZ
@given(body=view_body)
def test_views_never_500(owner_client, body):
    assert owner_client.post("/api/v1/views/", body, format="json").status_code < 500


@FUZZ
@given(body=view_body)
def test_view_updates_never_500(owner_client, tenant, body):
    view = SavedViewFactory(tenant=tenant)
    assert owner_client.patch(f"/api/v1/views/{view.pk}/", body, format="json").status_code < 500


@FUZZ
@given(body=macro_body)
def test_macros_never_500(owner_client, body):
    assert owner_client.post("/api/v1/macros/", body, format="json").status_code < 500


@FUZZ
@given(body=bulk_body)
def test_bulk_never_500(owner_client, body):
    assert owner_client.post("/api/v1/tickets/bulk/", body, format="json").status_code < 500


@FUZZ
@given(body=apply_body, cursor=st.text(max_size=40), page_size=st.text(max_size=5))
def test_apply_and_pages_never_500(owner_client, tenant, body, cursor, page_size):
    ticket = TicketFactory(tenant=tenant, status="open")
    MacroFactory(tenant=tenant)
    view = SavedViewFactory(tenant=tenant, conditions={})
    assert owner_client.post(f"/api/v1/tickets/{ticket.pk}/apply-macro/", body, format="json").status_code < 500
    response = owner_client.get(f"/api/v1/views/{view.pk}/tickets/", {"cursor": cursor, "page_size": page_size})
    assert response.status_code < 500
