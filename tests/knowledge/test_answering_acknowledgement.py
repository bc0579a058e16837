"""Answering first by mail: a new email request's acknowledgement lists the best-matching
published public articles in the request's language, with links on the tenant's host, only
when the tenant turned the option on."""
from __future__ import annotations

import pytest
from django.db import connection

from channels_hub.models import InboundSource, OutboundEmail
from channels_hub.services.acknowledgements import acknowledgement_queue
from channels_hub.services.inbound import inbound_store
from helpdesk.tenancy.context import tenant_scope
from knowledge.models import HelpCenterSettings
from knowledge.services.answering import acknowledgement_articles
from tests.channels_hub.mail import email_channel, raw_mail
from tests.factories import ContactFactory, ContactIdentityFactory
from tests.knowledge.answering_helpers import help_center
from tests.queries import QueryCounter
from tickets.models import Channel, Via
from tickets.services.tickets import ticket_create

pytestmark = pytest.mark.django_db

HIDDEN = ("Parcel escalation checklist for agents", "Parcel insurance for members", "Parcel pickup for partners",
          "Parcel lockers")


def switch(tenant, on: bool) -> None:
    with tenant_scope(tenant):
        HelpCenterSettings.objects.filter(tenant=tenant).update(suggest_in_acknowledgement=on)


def new_request(tenant, *, subject: str, body: str, language: str = "en", channel: str = Channel.EMAIL):
    with tenant_scope(tenant):
        contact = ContactFactory(tenant=tenant, name="Jane Doe")
        ContactIdentityFactory(tenant=tenant, contact=contact, value="jane@example.org")
        ticket = ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject=subject, description=body,
                               requester=contact, channel=channel, language=language)
        acknowledgement_queue(ticket=ticket, to="jane@example.org")
        return ticket, OutboundEmail.objects.get(ticket=ticket, kind="acknowledgement")


def test_a_new_mail_request_gets_matching_articles_when_the_option_is_on(tenant, django_capture_on_commit_callbacks):
    hc = help_center(tenant, suggest_in_acknowledgement=True)
    channel = email_channel(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        inbound_store(channel=channel, raw=raw_mail(subject="Where is my parcel?",
                                                    body="Hi,\n\nmy parcel never arrived. How can I track it?\n"),
                      source=InboundSource.HOOK)
    with tenant_scope(tenant):
        ack = OutboundEmail.objects.get(kind="acknowledgement")
    url = f"http://acme.localhost/hc/en/articles/{hc.tracking.pk}-"
    assert "these articles may already answer your question" in ack.body_text
    assert "How do I track my parcel?" in ack.body_text and url in ack.body_text
    assert f'href="{url}' in ack.body_html and "How do I track my parcel?" in ack.body_html
    for title in HIDDEN:
        assert title not in ack.body_text and title not in ack.body_html


def test_without_the_option_the_acknowledgement_is_as_before_and_costs_one_query(tenant):
    help_center(tenant)  # the option is off by default
    _ticket, ack = new_request(tenant, subject="Where is my parcel?", body="My parcel never arrived, track it?")
    assert "articles" not in ack.body_text and "How do I track my parcel?" not in ack.body_text
    assert "Your request: Where is my parcel?\n\nTo add information" in ack.body_text
    with tenant_scope(tenant), QueryCounter(connection) as queries:
        assert acknowledgement_articles(ticket=_ticket) == []
    assert len(queries) == 1


def test_at_most_three_public_published_articles(tenant):
    hc = help_center(tenant, suggest_in_acknowledgement=True)
    ticket, ack = new_request(
        tenant, subject="Parcel never arrived",
        body="Parcel tracking, parcel refunds, parcel insurance for members, parcel pickup for partners, parcel "
             "escalation checklist, parcel lockers.")
    with tenant_scope(tenant):
        articles = acknowledgement_articles(ticket=ticket)
    assert 1 <= len(articles) <= 3
    assert {a.article_id for a in articles} <= {hc.tracking.pk, hc.refunds.pk}
    assert all(a.url.startswith("http://acme.localhost/hc/en/articles/") for a in articles)
    for title in HIDDEN:
        assert title not in ack.body_text


def test_articles_come_in_the_requests_language(tenant):
    hc = help_center(tenant, suggest_in_acknowledgement=True)
    _ticket, ack = new_request(tenant, subject="Kargom nerede?", body="Kargomu takip etmek istiyorum, gelmedi.",
                               language="tr")
    assert "Kargomu nasıl takip ederim?" in ack.body_text
    assert f"http://acme.localhost/hc/tr/articles/{hc.tracking.pk}-" in ack.body_text
    assert "How do I track my parcel?" not in ack.body_text


def test_portal_requests_do_not_get_articles_in_their_acknowledgement(tenant):
    help_center(tenant, suggest_in_acknowledgement=True)
    _ticket, ack = new_request(tenant, subject="Where is my parcel?", body="My parcel never arrived, track it?",
                               channel=Channel.WEB)
    assert "How do I track my parcel?" not in ack.body_text


def test_a_request_nothing_matches_gets_the_plain_acknowledgement(tenant):
    help_center(tenant, suggest_in_acknowledgement=True)
    _ticket, ack = new_request(tenant, subject="Invoice address", body="Please change the invoice address.")
    assert "may already answer" not in ack.body_text
