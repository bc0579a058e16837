"""Macro placeholders: allowlisted substitution only, never a template engine."""
from types import SimpleNamespace

import pytest

from tickets.productivity.placeholders import (
    choose_language,
    placeholder_context,
    render_placeholders,
    unknown_placeholders,
)

VALUES = {
    "requester.first_name": "Ayşe",
    "requester.name": "Ayşe Yılmaz",
    "ticket.number": "1042",
    "ticket.subject": "Kargo gecikti",
    "agent.first_name": "Mehmet",
    "agent.name": "Mehmet Demir",
    "tenant.name": "Acme",
}


def test_renders_allowlisted_placeholders_with_or_without_spaces():
    text = "Hi {{ requester.first_name }}, about #{{ticket.number}} ({{  ticket.subject  }}). {{ agent.name }}"
    assert render_placeholders(text, VALUES) == "Hi Ayşe, about #1042 (Kargo gecikti). Mehmet Demir"


def test_missing_and_none_values_render_empty():
    assert render_placeholders("Hi {{ requester.first_name }}!", {}) == "Hi !"
    assert render_placeholders("Hi {{ requester.first_name }}!", {"requester.first_name": None}) == "Hi !"


@pytest.mark.parametrize("text", [
    "{{ request }}",
    "{{ request.user.password }}",
    "{% load static %}{% debug %}",
    "{{ settings.SECRET_KEY }}",
    "{{ ticket.number|add:1 }}",
    "{{ ticket.requester.email }}",
    "{{ requester.first_name.upper }}",
    "{# comment #}",
    "{{",
    "}}",
])
def test_anything_not_allowlisted_stays_literal(text):
    assert render_placeholders(text, VALUES) == text


def test_values_are_not_expanded_again():
    values = {**VALUES, "requester.name": "{{ agent.name }} {% load x %}"}
    assert render_placeholders("Dear {{ requester.name }}", values) == "Dear {{ agent.name }} {% load x %}"


def test_unknown_placeholders_are_listed_once_in_order():
    text = "{{ request }} {{ ticket.number }} {{ foo.bar }} {{ request }}"
    assert unknown_placeholders(text) == ["request", "foo.bar"]
    assert unknown_placeholders("{{ ticket.subject }} {% load static %}") == []


def test_context_from_objects():
    ticket = SimpleNamespace(number=7, subject="Refund", requester=SimpleNamespace(name="  Jane  Q. Doe "))
    agent = SimpleNamespace(pk=3, full_name="Sam Agent", email="sam@example.com")
    tenant = SimpleNamespace(display_name="Acme Support", name="Acme")
    values = placeholder_context(ticket=ticket, agent=agent, tenant=tenant)
    assert values == {
        "requester.first_name": "Jane", "requester.name": "Jane  Q. Doe", "ticket.number": "7",
        "ticket.subject": "Refund", "agent.first_name": "Sam", "agent.name": "Sam Agent",
        "tenant.name": "Acme Support",
    }


def test_context_never_shows_an_agent_email_and_tolerates_missing_people():
    ticket = SimpleNamespace(number=7, subject="Refund", requester=SimpleNamespace(name=""))
    nameless = SimpleNamespace(pk=3, full_name="", email="sam@example.com")
    values = placeholder_context(ticket=ticket, agent=nameless, tenant=None)
    assert values["agent.name"] == values["agent.first_name"] == ""
    assert values["requester.first_name"] == values["tenant.name"] == ""
    assert placeholder_context(ticket=ticket, agent=None)["agent.name"] == ""


def test_language_prefers_the_ticket_then_the_tenant_then_any():
    texts = {"en": "Hello", "tr": "Merhaba"}
    assert choose_language(texts, ["tr", "en"]) == "tr"
    assert choose_language(texts, ["tr-TR", "en"]) == "tr"
    assert choose_language(texts, ["de", "en"]) == "en"
    assert choose_language({"tr": "Merhaba"}, ["de", "en"]) == "tr"
    assert choose_language({"en": "Hello", "tr": "   "}, ["tr"]) == "en"  # a blank text is no text
    assert choose_language({"tr": "Merhaba", "en": "Hello"}, [None, ""]) == "en"  # settings.LANGUAGES order
    assert choose_language({}, ["en"]) is None
