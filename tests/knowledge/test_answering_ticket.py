"""Answering first in the agent console: suggested articles beside a ticket (internal ones
marked), the search box, what "insert" puts into a reply, and an article drafted from a solved
ticket's answer (rights, draft, owner, source ticket, sanitised body)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import Article, SearchEvent, TranslationStatus
from knowledge.services.answering import article_from_ticket, clean_subject, ticket_suggestions
from tests.factories import agent_in
from tests.knowledge.answering_helpers import help_center
from tests.knowledge.factories import SectionFactory
from tests.queries import QueryCounter
from tests.tickets.factories import MessageFactory, TicketFactory
from tickets.models import MessageKind, Status

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"


def client_for(user, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


@pytest.fixture
def agent_client(agent) -> Client:
    return client_for(agent)


@pytest.fixture
def light_client(tenant) -> Client:
    return client_for(agent_in(tenant, role=Role.LIGHT_AGENT, email="light@acme.test"))


def parcel_ticket(tenant, *, subject="My parcel never arrived", body="Where is my parcel? I want to track it.",
                  **fields):
    ticket = TicketFactory(tenant=tenant, subject=subject, **fields)
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=ticket.requester,
                   body_text=body)
    return ticket


def fragment(client: Client, ticket, **params):
    return client.get(f"/console/kb/tickets/{ticket.number}/articles/", {"partial": "1", **params})


# --- beside the ticket ----------------------------------------------------------------------------

def test_the_ticket_page_carries_the_panel_and_loads_suggestions_after_it(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant)
    html = agent_client.get(f"/console/tickets/{ticket.number}/").content.decode()
    assert 'id="kb-articles"' in html
    assert f'data-articles-url="/console/kb/tickets/{ticket.number}/articles/"' in html
    assert "kb_answering.js" in html
    assert "How do I track my parcel?" not in html  # fetched later, never slowing the page


def test_suggestions_match_the_ticket_and_mark_internal_articles(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant, subject="Parcel lost: escalation to the carrier hotline?",
                           body="The parcel never arrived; should we refund or call the carrier hotline?")
    response = fragment(agent_client, ticket)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Parcel escalation checklist for agents" in html
    assert "kb-item-internal" in html and ">Internal<" in html
    assert 'data-kb-insert="link"' in html and 'data-kb-insert="text"' in html
    assert f"http://acme.localhost/hc/en/articles/{hc.refunds.pk}-" in html or \
        f"http://acme.localhost/hc/en/articles/{hc.tracking.pk}-" in html
    assert "Parcel lockers" not in html  # a draft is no answer yet
    with tenant_scope(tenant):
        found = ticket_suggestions(ticket=ticket)
    internal = [a for a in found if a.article_id == hc.internal.pk]
    assert internal and internal[0].internal
    assert all(not a.internal for a in found if a.article_id != hc.internal.pk)


def test_an_internal_article_offers_its_text_but_no_link_for_the_customer(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant, subject="Escalation checklist", body="carrier hotline escalation checklist")
    html = fragment(agent_client, ticket).content.decode()
    item = html[html.index(f'data-article-id="{hc.internal.pk}"'):]
    item = item[:item.index("</li>")]
    assert 'data-kb-insert="text"' in item and 'data-kb-insert="link"' not in item


def test_suggestions_follow_the_tickets_language(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant, subject="Kargom nerede?", body="Kargomu takip etmek istiyorum.", language="tr")
    html = fragment(agent_client, ticket).content.decode()
    assert "Kargomu nasıl takip ederim?" in html
    assert f"/hc/tr/articles/{hc.tracking.pk}-" in html


def test_the_fragment_costs_the_same_queries_for_one_or_many_matches(agent_client, tenant, hc):
    one = parcel_ticket(tenant, subject="Refunds", body="refund")
    many = parcel_ticket(tenant, subject="Parcel tracking refunds escalation",
                         body="parcel tracking link, parcel refunds, carrier hotline escalation checklist")
    fragment(agent_client, one)
    with QueryCounter(connection) as small:
        few_html = fragment(agent_client, one).content.decode()
    with QueryCounter(connection) as large:
        many_html = fragment(agent_client, many).content.decode()
    assert many_html.count('class="kb-item') > few_html.count('class="kb-item') >= 1
    assert len(large.captured_queries) == len(small.captured_queries), \
        [q["sql"] for q in large.captured_queries]


def test_the_search_box_finds_other_articles_and_is_recorded(agent_client, agent, tenant, hc):
    ticket = parcel_ticket(tenant)
    html = fragment(agent_client, ticket, q="refunds").content.decode()
    assert "Refunds for a parcel that never arrived" in html and "Articles for “refunds”" in html
    with tenant_scope(tenant):
        event = SearchEvent.objects.get()
    assert event.source == "console" and event.user_id == agent.pk
    assert f"search={event.pk}" in html
    assert "No articles match this search." in fragment(agent_client, ticket, q="zzzqqq xylophone").content.decode()


def test_without_javascript_the_list_opens_as_a_page(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant)
    response = agent_client.get(f"/console/kb/tickets/{ticket.number}/articles/")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "How do I track my parcel?" in html and 'data-kb-insert' not in html
    assert f'href="/console/tickets/{ticket.number}/"' in html


def test_another_tenants_ticket_and_article_are_404(tenant, other_tenant, hc, other_agent):
    ticket = parcel_ticket(tenant)
    client = client_for(other_agent, OTHER_HOST)
    assert fragment(client, ticket).status_code == 404
    assert client.get(f"/console/kb/articles/{hc.tracking.pk}/reply-text/").status_code == 404


# --- what goes into the reply -------------------------------------------------------------------

def test_reply_text_gives_title_public_link_and_plain_text(agent_client, tenant, hc):
    response = agent_client.get(f"/console/kb/articles/{hc.tracking.pk}/reply-text/", {"locale": "tr"})
    data = response.json()
    assert data["title"] == "Kargomu nasıl takip ederim?" and data["locale"] == "tr"
    assert data["url"].startswith(f"http://acme.localhost/hc/tr/articles/{hc.tracking.pk}-")
    assert "takip bağlantısını" in data["text"] and "<p>" not in data["text"]
    assert data["internal"] is False
    fallback = agent_client.get(f"/console/kb/articles/{hc.refunds.pk}/reply-text/", {"locale": "tr"}).json()
    assert fallback["locale"] == "en"  # no Turkish translation: the default language's


def test_reply_text_of_an_unpublished_article_is_404(agent_client, hc):
    assert agent_client.get(f"/console/kb/articles/{hc.draft.pk}/reply-text/").status_code == 404


def test_inserting_a_search_result_counts_the_click(agent_client, tenant, hc):
    ticket = parcel_ticket(tenant)
    fragment(agent_client, ticket, q="refunds")
    with tenant_scope(tenant):
        event = SearchEvent.objects.get()
    agent_client.get(f"/console/kb/articles/{hc.refunds.pk}/reply-text/", {"locale": "en", "search": event.pk})
    with tenant_scope(tenant):
        event.refresh_from_db()
    assert event.clicked_article_id == hc.refunds.pk


# --- an article from a solved ticket ---------------------------------------------------------------

@pytest.fixture
def solved(tenant, agent):
    ticket = parcel_ticket(tenant, subject="Re: Parcel never arrived", status=Status.SOLVED)
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_user=agent,
                   body_text="First try", body_html="<p>First try</p>")
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.NOTE, author_user=agent,
                   body_text="internal note", body_html="<p>internal note</p>")
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_user=agent,
                   body_text="Open the tracking link.",
                   body_html='<p>Open the <a href="https://carrier.example/track" onclick="x()">tracking link</a>.'
                             '</p><script>alert(1)</script><img src="javascript:alert(2)">')
    MessageFactory(tenant=tenant, ticket=ticket, kind=MessageKind.PUBLIC, author_contact=ticket.requester,
                   body_text="Thanks, it worked!", body_html="<p>Thanks, it worked!</p>")
    return ticket


def test_a_solved_ticket_offers_to_make_an_article(agent_client, light_client, tenant, hc, solved):
    html = agent_client.get(f"/console/tickets/{solved.number}/").content.decode()
    assert f'href="/console/kb/tickets/{solved.number}/article/new/"' in html
    assert "Create article from this answer" in html
    assert "Create article from this answer" not in light_client.get(f"/console/tickets/{solved.number}/") \
        .content.decode()
    open_ticket = parcel_ticket(tenant)
    assert "Create article from this answer" not in agent_client.get(f"/console/tickets/{open_ticket.number}/") \
        .content.decode()


def test_the_form_starts_from_the_subject_and_shows_the_answer(agent_client, hc, solved):
    html = agent_client.get(f"/console/kb/tickets/{solved.number}/article/new/").content.decode()
    assert 'value="Parcel never arrived"' in html
    assert "Shipping › Parcels" in html
    assert "Open the tracking link." in html and "Thanks, it worked!" not in html


def test_the_answer_becomes_a_draft_owned_by_the_agent(agent_client, agent, tenant, hc, solved):
    response = agent_client.post(f"/console/kb/tickets/{solved.number}/article/new/",
                                 {"title": "Parcel never arrived", "section": hc.section.pk, "locale": "en"})
    assert response.status_code == 302
    with tenant_scope(tenant):
        article = Article.objects.exclude(pk__in=[hc.tracking.pk, hc.refunds.pk, hc.internal.pk, hc.members.pk,
                                                  hc.partners.pk, hc.draft.pk]).get()
        translation = article.translations.get()
    assert response["Location"] in (f"/console/kb/articles/{article.pk}/edit/", f"/console/tickets/{solved.number}/")
    assert article.owner_id == agent.pk and article.source_ticket_id == solved.pk
    assert article.section_id == hc.section.pk
    assert translation.status == TranslationStatus.DRAFT and translation.locale == "en"
    assert translation.title == "Parcel never arrived"
    body = translation.body_html
    assert 'href="https://carrier.example/track"' in body and "tracking link" in body
    for bad in ("onclick", "<script", "alert(1)", "javascript:"):
        assert bad not in body
    assert "Thanks, it worked" not in body and "internal note" not in body


def test_a_light_agent_cannot_make_an_article(light_client, tenant, hc, solved):
    response = light_client.post(f"/console/kb/tickets/{solved.number}/article/new/",
                                 {"title": "Parcel", "section": hc.section.pk, "locale": "en"})
    assert response.status_code == 403
    assert light_client.get(f"/console/kb/tickets/{solved.number}/article/new/").status_code == 403
    with tenant_scope(tenant):
        assert Article.objects.count() == 6


def test_an_unsolved_ticket_or_one_without_an_answer_is_refused(agent_client, tenant, hc):
    open_ticket = parcel_ticket(tenant)
    MessageFactory(tenant=tenant, ticket=open_ticket, kind=MessageKind.PUBLIC, author_user=None,
                   body_text="x", body_html="<p>x</p>")
    data = {"title": "Parcel", "section": hc.section.pk, "locale": "en"}
    response = agent_client.post(f"/console/kb/tickets/{open_ticket.number}/article/new/", data)
    assert response.status_code == 400 and "solved or closed" in response.content.decode()
    unanswered = parcel_ticket(tenant, status=Status.SOLVED)
    response = agent_client.post(f"/console/kb/tickets/{unanswered.number}/article/new/", data)
    assert response.status_code == 400 and "no public reply from an agent" in response.content.decode()
    with tenant_scope(tenant):
        assert Article.objects.count() == 6


def test_a_section_of_another_tenant_is_refused(agent_client, tenant, other_tenant, hc, solved):
    foreign = SectionFactory(tenant=other_tenant)
    response = agent_client.post(f"/console/kb/tickets/{solved.number}/article/new/",
                                 {"title": "Parcel", "section": foreign.pk, "locale": "en"})
    assert response.status_code == 400
    with tenant_scope(tenant):
        assert Article.objects.count() == 6


def test_the_service_checks_its_preconditions(tenant, agent, hc, solved):
    with tenant_scope(tenant):
        article = article_from_ticket(ticket=solved, actor=agent, section=hc.section)
        assert article.translations.get().title == "Parcel never arrived"
        assert article.visibility == "public" and article.translations.get().status == "draft"


def test_subjects_lose_reply_prefixes():
    assert clean_subject("Re: Fwd: RE[2]: Parcel") == "Parcel"
    assert clean_subject("YNT: Kargo") == "Kargo"
    assert clean_subject("Report: weekly") == "Report: weekly"


def test_customers_never_see_a_draft_made_from_a_ticket(tenant, agent, hc, solved):
    with tenant_scope(tenant):
        article = article_from_ticket(ticket=solved, actor=agent, section=hc.section)
    page = Client(HTTP_HOST=HOST).get(f"/hc/en/articles/{article.pk}-parcel-never-arrived/")
    assert page.status_code == 404
