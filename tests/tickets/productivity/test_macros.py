"""Macros: validation on save, who may use them, and applying one to a ticket."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from helpdesk.api.authentication import ApiKeyUser
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Role
from helpdesk.tenancy.services import api_key_create
from tests.factories import ContactFactory, TeamFactory, agent_in
from tests.tickets.factories import ContactReasonFactory, CustomFieldFactory, MacroFactory, TicketFactory
from tickets.models import Macro, Message, MessageKind, Ticket, Via
from tickets.productivity.macros import macro_apply, macro_create, macro_delete, macro_list, macro_update
from tickets.services.common import StaleTicket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(tenant):
    requester = ContactFactory(tenant=tenant, name="Ayşe Yılmaz")
    return TicketFactory(tenant=tenant, requester=requester, status="open", subject="Kargo gecikti",
                         language="tr", number=1042)


def api_key_actor(tenant):
    key, _raw = api_key_create(tenant=tenant, name="integration")
    return ApiKeyUser(key)


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize("actions", [
    [{"field": "subject", "value": "x"}],
    [{"field": "status", "value": "closed"}],
    [{"field": "status", "value": "new"}],
    [{"field": "status", "value": "pending"}, {"field": "status", "value": "open"}],
    [{"field": "priority", "value": "critical"}],
    [{"field": "type", "value": 3}],
    [{"field": "assignee", "value": 999999}],
    [{"field": "assignee", "value": "5"}],
    [{"field": "assignee", "value": True}],
    [{"field": "team", "value": 999999}],
    [{"field": "contact_reason", "value": "billing"}],
    [{"field": "add_tags", "value": "vip"}],
    [{"field": "add_tags", "value": ["  "]}],
    [{"field": "set_tags", "value": ["a"]}, {"field": "add_tags", "value": ["b"]}],
    [{"field": "custom_fields", "value": {"no_such_field": 1}}],
    [{"field": "custom_fields", "value": []}],
    [{"field": "add_tags", "value": ["a\ud800"]}],
    [{"field": "status"}],
    [{"field": "status", "value": "open", "extra": 1}],
    {"field": "status", "value": "open"},
    "status=open",
])
def test_bad_actions_are_refused(tenant, owner, in_tenant, actions):
    with pytest.raises(ValidationError) as info:
        macro_create(tenant=tenant, actor=owner, name="Bad", actions=actions, personal=False)
    assert "actions" in info.value.message_dict
    assert not Macro.objects.exists()


def test_references_must_be_of_this_tenant_and_assignable(tenant, other_tenant, owner, in_tenant):
    foreign_team = TeamFactory(tenant=other_tenant)
    foreign_agent = agent_in(other_tenant)
    light = agent_in(tenant, role=Role.LIGHT_AGENT)
    for actions in ([{"field": "team", "value": foreign_team.pk}],
                    [{"field": "assignee", "value": foreign_agent.pk}],
                    [{"field": "assignee", "value": light.pk}]):
        with pytest.raises(ValidationError):
            macro_create(tenant=tenant, actor=owner, name="Bad", actions=actions, personal=False)


def test_typed_custom_fields_and_normalised_tags(tenant, owner, in_tenant):
    CustomFieldFactory(tenant=tenant, key="order_no", kind="number")
    with pytest.raises(ValidationError):
        macro_create(tenant=tenant, actor=owner, name="Bad", personal=False,
                     actions=[{"field": "custom_fields", "value": {"order_no": "not a number"}}])
    macro = macro_create(tenant=tenant, actor=owner, name="Good", personal=False, actions=[
        {"field": "custom_fields", "value": {"order_no": 42}},
        {"field": "add_tags", "value": ["VIP Customer", "vip-customer", "Refund"]},
    ])
    assert macro.actions == [{"field": "custom_fields", "value": {"order_no": 42}},
                             {"field": "add_tags", "value": ["vip-customer", "refund"]}]


@pytest.mark.parametrize("reply", [
    {"de": "Hallo"},
    {"en": 5},
    {"en": "Hi {{ request.user }}"},
    {"en": "Hi {{ requester.email }}"},
    {"en": "Hi\x00"},
    "Hi",
])
def test_bad_replies_are_refused(tenant, owner, in_tenant, reply):
    with pytest.raises(ValidationError) as info:
        macro_create(tenant=tenant, actor=owner, name="Bad", reply=reply, personal=False)
    assert "reply" in info.value.message_dict


def test_personal_and_shared_macros(tenant, owner, agent, in_tenant):
    colleague = agent_in(tenant, role=Role.AGENT)
    mine = macro_create(tenant=tenant, actor=agent, name="Mine", reply={"en": "Hi", "tr": ""})
    assert mine.owner == agent and mine.reply == {"en": "Hi"}
    with pytest.raises(PermissionDenied):
        macro_create(tenant=tenant, actor=agent, name="Shared", personal=False)
    shared = macro_create(tenant=tenant, actor=owner, name="Shared", personal=False)
    assert macro_create(tenant=tenant, actor=api_key_actor(tenant), name="Robot", personal=False).owner is None
    for actor, macro in ((colleague, mine), (agent, shared)):
        with pytest.raises(PermissionDenied):
            macro_update(macro=macro, actor=actor, name="Hijacked")
        with pytest.raises(PermissionDenied):
            macro_delete(macro=macro, actor=actor)
    macro_update(macro=mine, actor=agent, reply={"tr": "Merhaba"}, reply_public=False)
    mine.refresh_from_db()
    assert (mine.reply, mine.reply_public) == ({"tr": "Merhaba"}, False)
    assert [m.name for m in macro_list(user=agent)] == ["Mine", "Robot", "Shared"]
    assert [m.name for m in macro_list(user=colleague)] == ["Robot", "Shared"]
    macro_delete(macro=shared, actor=owner)
    assert not Macro.objects.filter(pk=shared.pk).exists()


# --- applying ---------------------------------------------------------------------------


def test_apply_makes_every_change_in_one_update_and_renders_the_reply(tenant, owner, agent, ticket, in_tenant):
    team = TeamFactory(tenant=tenant)
    reason = ContactReasonFactory(tenant=tenant)
    CustomFieldFactory(tenant=tenant, key="order_no", kind="text")
    agent.full_name = "Mehmet Demir"
    macro = macro_create(tenant=tenant, actor=owner, name="Wait for the courier", personal=False, actions=[
        {"field": "status", "value": "pending"},
        {"field": "priority", "value": "high"},
        {"field": "assignee", "value": "me"},
        {"field": "team", "value": team.pk},
        {"field": "contact_reason", "value": reason.pk},
        {"field": "add_tags", "value": ["courier"]},
        {"field": "custom_fields", "value": {"order_no": "A-7"}},
    ], reply={
        "en": "Hi {{ requester.first_name }}, about #{{ ticket.number }}. {{ agent.first_name }}",
        "tr": "Merhaba {{ requester.first_name }}, #{{ ticket.number }} ({{ ticket.subject }}) hakkında. "
              "{{ agent.name }}, {{ tenant.name }}",
    })
    version = ticket.version
    applied = macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE)

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.status, ticket.priority, ticket.assignee, ticket.team, ticket.contact_reason) == (
        "pending", "high", agent, team, reason)
    assert list(ticket.tags.values_list("name", flat=True)) == ["courier"]
    assert ticket.custom_fields == {"order_no": "A-7"}
    assert ticket.version == version + 1  # one change
    assert Message.objects.filter(ticket=ticket, kind=MessageKind.SYSTEM).count() == 1
    assert applied.changed and applied.message is None
    assert (applied.reply.language, applied.reply.public) == ("tr", True)
    assert applied.reply.text == "Merhaba Ayşe, #1042 (Kargo gecikti) hakkında. Mehmet Demir, Acme Ltd"
    assert Macro.objects.get(pk=macro.pk).usage_count == 1


def test_reply_language_falls_back_to_the_tenant_then_any(tenant, agent, ticket, in_tenant):
    macro = MacroFactory(tenant=tenant, reply={"en": "Hello {{ requester.name }}", "tr": "Merhaba"})
    Ticket.objects.filter(pk=ticket.pk).update(language="de")
    ticket.refresh_from_db()
    assert macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE).reply.text == "Hello Ayşe Yılmaz"
    tenant.default_locale = "tr"
    tenant.save()
    ticket = Ticket.objects.select_related("tenant").get(pk=ticket.pk)
    assert macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE).reply.language == "tr"
    only_english = MacroFactory(tenant=tenant, reply={"en": "Hello"})
    assert macro_apply(ticket=ticket, macro=only_english, actor=agent, via=Via.CONSOLE).reply.language == "en"
    silent = MacroFactory(tenant=tenant, reply={})
    assert macro_apply(ticket=ticket, macro=silent, actor=agent, via=Via.CONSOLE).reply is None


def test_stored_text_is_never_run_as_a_template(tenant, agent, in_tenant):
    # Saved before validation existed (or through the admin): rendering stays literal anyway.
    evil = ContactFactory(tenant=tenant, name="{{ agent.name }}")
    ticket = TicketFactory(tenant=tenant, requester=evil, language="en")
    agent.full_name = "Sam Agent"
    macro = MacroFactory(tenant=tenant, reply={
        "en": "{% load static %}{{ request }} {{ settings.SECRET_KEY }} Dear {{ requester.first_name }}"})
    text = macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE).reply.text
    assert text == "{% load static %}{{ request }} {{ settings.SECRET_KEY }} Dear {{"


def test_missing_values_render_empty(tenant, ticket, in_tenant):
    nameless = ContactFactory(tenant=tenant, name="")
    Ticket.objects.filter(pk=ticket.pk).update(requester=nameless)
    ticket = Ticket.objects.select_related("requester", "tenant").get(pk=ticket.pk)
    robot = api_key_actor(tenant)
    macro = MacroFactory(tenant=tenant, reply={"tr": "Merhaba {{ requester.first_name }}! -- {{ agent.name }}"})
    assert macro_apply(ticket=ticket, macro=macro, actor=robot, via=Via.API).reply.text == "Merhaba ! -- "


def test_send_posts_the_reply_in_the_same_transaction(tenant, agent, ticket, in_tenant):
    public = MacroFactory(tenant=tenant, actions=[{"field": "status", "value": "pending"}],
                          reply={"tr": "Merhaba {{ requester.first_name }}"})
    applied = macro_apply(ticket=ticket, macro=public, actor=agent, via=Via.CONSOLE, send=True)
    assert applied.message.kind == MessageKind.PUBLIC
    assert applied.message.body_text == "Merhaba Ayşe"
    note = MacroFactory(tenant=tenant, reply={"en": "Checked with the courier"}, reply_public=False)
    applied = macro_apply(ticket=ticket, macro=note, actor=agent, via=Via.CONSOLE, send=True)
    assert (applied.changed, applied.message.kind) == (False, MessageKind.NOTE)


def test_a_stale_ticket_applies_nothing(tenant, agent, ticket, in_tenant):
    stale = ticket.version + 5
    macro = MacroFactory(tenant=tenant, actions=[{"field": "priority", "value": "urgent"}])
    reply_only = MacroFactory(tenant=tenant, reply={"en": "Hi"})
    for candidate, send in ((macro, False), (reply_only, True), (reply_only, False)):
        with pytest.raises(StaleTicket):
            macro_apply(ticket=ticket, macro=candidate, actor=agent, via=Via.CONSOLE, send=send,
                        expected_version=stale)
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert not Message.objects.filter(ticket=ticket).exists()
    assert Macro.objects.filter(usage_count__gt=0).count() == 0
    applied = macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE, expected_version=ticket.version)
    assert applied.changed
    assert not macro_apply(ticket=applied.ticket, macro=macro, actor=agent, via=Via.CONSOLE).changed  # already urgent


def test_who_may_apply(tenant, agent, ticket, in_tenant):
    colleague = agent_in(tenant, role=Role.AGENT)
    personal = MacroFactory(tenant=tenant, owner=colleague, actions=[{"field": "priority", "value": "high"}])
    with pytest.raises(PermissionDenied):
        macro_apply(ticket=ticket, macro=personal, actor=agent, via=Via.CONSOLE)
    assert macro_apply(ticket=ticket, macro=personal, actor=colleague, via=Via.CONSOLE).ticket.priority == "high"
    off = MacroFactory(tenant=tenant, is_active=False)
    with pytest.raises(ValidationError):
        macro_apply(ticket=ticket, macro=off, actor=agent, via=Via.CONSOLE)
    me = MacroFactory(tenant=tenant, actions=[{"field": "assignee", "value": "me"}])
    with pytest.raises(ValidationError):
        macro_apply(ticket=ticket, macro=me, actor=api_key_actor(tenant), via=Via.API)


def test_an_assignee_who_left_is_refused_at_apply(tenant, owner, agent, ticket, in_tenant):
    leaver = agent_in(tenant, role=Role.AGENT)
    macro = macro_create(tenant=tenant, actor=owner, name="To the leaver", personal=False,
                         actions=[{"field": "assignee", "value": leaver.pk}])
    Membership.objects.filter(user=leaver).update(is_active=False)
    with pytest.raises(ValidationError):
        macro_apply(ticket=ticket, macro=macro, actor=agent, via=Via.CONSOLE)
    ticket.refresh_from_db()
    assert ticket.assignee is None
