"""Action validation: clear messages for every mistake, references checked in the tenant."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from helpdesk.tenancy.context import tenant_scope
from tests.factories import TeamFactory, WebhookSubscriptionFactory
from tickets.automation.actions import validate_actions


def messages(data, **kwargs):
    with pytest.raises(ValidationError) as exc:
        validate_actions(data, **kwargs)
    return " | ".join(exc.value.messages)


def test_a_valid_list_is_normalised():
    actions = validate_actions([
        {"field": "status", "value": "pending"},
        {"field": "priority", "value": "high"},
        {"field": "add_tags", "value": [" VIP ", "vip", "refund"]},
        {"field": "assignee_id", "value": None},
        {"field": "custom_fields.order_number", "value": "A-1"},
        {"field": "notify", "value": {"to": "assignee", "text": " Ticket {{ ticket.number }} needs you "}},
        {"field": "email_requester", "value": {"subject": {"en": "Hi", "tr": "Merhaba"},
                                               "body": "Hello {{ requester.first_name }}"}},
        {"field": "webhook", "value": None},
    ])
    assert actions[2] == {"field": "add_tags", "value": ["refund", "vip"]}
    assert actions[5]["value"]["text"] == "Ticket {{ ticket.number }} needs you"
    assert actions[7] == {"field": "webhook", "value": {}}


@pytest.mark.parametrize("data, fragment", [
    ([], "at least one action"),
    ("status", "at least one action"),
    ([{"field": "status"}], '{"field": ..., "value": ...}'),
    ([{"field": "status", "value": "closed"}], "status can be set to one of"),
    ([{"field": "status", "value": "new"}], "status can be set to one of"),
    ([{"field": "priority", "value": "critical"}], "priority must be one of"),
    ([{"field": "assignee_id", "value": "5"}], "assignee_id must be an id or null"),
    ([{"field": "assignee_id", "value": True}], "assignee_id must be an id or null"),
    ([{"field": "add_tags", "value": []}], "add_tags needs a list"),
    ([{"field": "add_tags", "value": ["x" * 81]}], "add_tags needs a list"),
    ([{"field": "custom_fields.Bad-Key", "value": 1}], "Unknown field"),
    ([{"field": "notify", "value": {"to": "everyone", "text": "hi"}}], "notify can go to"),
    ([{"field": "notify", "value": {"to": "user", "text": "hi"}}], 'needs a "user_id"'),
    ([{"field": "notify", "value": {"to": "assignee", "text": "{{ agent.password }}"}}], "unknown placeholders"),
    ([{"field": "email_requester", "value": {"subject": "", "body": "x"}}], "may not be empty"),
    ([{"field": "email_requester", "value": {"subject": "x"}}], "email_requester needs"),
    ([{"field": "webhook", "value": {"url": "http://169.254.169.254/"}}], "webhook takes"),
    ([{"field": "drop_table", "value": 1}], "Unknown action: drop_table"),
    ([{"field": "status", "value": "open"}, {"field": "status", "value": "pending"}], "repeated: status"),
    ([{"field": "status", "value": "open"}] * 21, "At most 20 actions"),
])
def test_mistakes_are_named(data, fragment):
    assert fragment in messages(data)


def test_errors_carry_the_position_of_the_action():
    text = messages([{"field": "status", "value": "open"}, {"field": "priority", "value": "nope"}])
    assert text.startswith("actions[1]: ")


@pytest.mark.django_db
def test_references_must_be_the_tenants(tenant, other_tenant, agent, other_agent):
    own_team, foreign_team = TeamFactory(tenant=tenant), TeamFactory(tenant=other_tenant)
    own_hook, foreign_hook = WebhookSubscriptionFactory(tenant=tenant), WebhookSubscriptionFactory(tenant=other_tenant)
    with tenant_scope(tenant):
        validate_actions([{"field": "assignee_id", "value": agent.pk}, {"field": "team_id", "value": own_team.pk},
                          {"field": "webhook", "value": {"webhook_id": own_hook.pk}}], tenant=tenant)
        text = messages([
            {"field": "assignee_id", "value": other_agent.pk},
            {"field": "team_id", "value": foreign_team.pk},
            {"field": "notify", "value": {"to": "user", "user_id": 999999, "text": "hi"}},
            {"field": "webhook", "value": {"webhook_id": foreign_hook.pk}},
        ], tenant=tenant)
    assert f"No such person in this helpdesk: {other_agent.pk}, 999999" in text
    assert f"No such team: {foreign_team.pk}" in text
    assert f"No such webhook: {foreign_hook.pk}" in text
