"""Answering first in the request portal's form: the suggestions JSON (who sees what, how many
queries, the option, the rate limit), the recorded search and click, and the deflection
figures a submitted or abandoned request leaves."""
from __future__ import annotations

import time

import pytest
from django.db import connection
from django.core import signing
from django.test import Client

from channels_hub.portal import auth
from helpdesk.tenancy.context import tenant_scope
from knowledge.models import HelpCenterSettings, SearchEvent, SelfServiceSession
from knowledge.services.listening import search_record
from tests.channels_hub.factories import PortalAccountFactory
from tests.factories import ContactFactory, ContactIdentityFactory
from tests.knowledge.answering_helpers import help_center
from tests.queries import QueryCounter
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
OTHER_HOST = "globex.localhost"
SUGGEST = "/hc/requests/suggest.json"
KEY = "visit-key-0123456789abcdef"


@pytest.fixture
def hc(tenant):
    return help_center(tenant)


def visitor(key: str | None = KEY, host: str = HOST) -> Client:
    client = Client(HTTP_HOST=host)
    if key:
        client.cookies["hc_session"] = key
    return client


def stamp(tenant, *, age: float = 10.0) -> str:
    return signing.dumps({"t": time.time() - age, "k": tenant.pk, "n": f"{time.time_ns():x}"},
                         salt="channels_hub.portal.form", compress=False)


def submission(tenant, **overrides) -> dict:
    data = {"name": "Jane Doe", "email": "jane@example.org", "subject": "My parcel never arrived",
            "description": "I ordered two weeks ago and the parcel is not here.", "website": "",
            "stamp": stamp(tenant)}
    data.update(overrides)
    return data


def suggest(client: Client, q: str, **params):
    response = client.get(SUGGEST, {"q": q, **params})
    assert response.status_code == 200, response.content
    return response.json()


def titles(data) -> list[str]:
    return [r["title"] for r in data["results"]]


# --- what the form suggests, and to whom -------------------------------------------------------

def test_a_visitor_gets_public_published_articles_in_their_language(tenant, hc):
    data = suggest(visitor(), "my parcel never arrived, where is it?")
    found = titles(data)
    assert "How do I track my parcel?" in found or "Refunds for a parcel that never arrived" in found
    for hidden in ("Parcel escalation checklist for agents", "Parcel insurance for members",
                   "Parcel pickup for partners", "Parcel lockers"):
        assert hidden not in found
    row = data["results"][0]
    assert set(row) == {"article_id", "title", "snippet", "url", "open_url"}
    assert row["url"].startswith("/hc/en/articles/")
    turkish = suggest(visitor(), "kargom nerede, takip etmek istiyorum", locale="tr")
    assert "Kargomu nasıl takip ederim?" in titles(turkish)


def test_internal_articles_never_reach_a_customer_even_one_who_is_an_agent(tenant, hc, agent):
    client = visitor()
    client.force_login(agent)  # an agent trying the form sees what customers see
    found = titles(suggest(client, "parcel escalation checklist hotline"))
    assert "Parcel escalation checklist for agents" not in found


def test_signed_in_customers_and_organizations_see_their_articles(tenant, hc):
    contact = ContactFactory(tenant=tenant, name="Pat Partner", organization=hc.organization)
    ContactIdentityFactory(tenant=tenant, contact=contact, value="pat@partner.example")
    account = PortalAccountFactory(tenant=tenant, contact=contact, email="pat@partner.example")
    client = visitor()
    session = client.session
    session[f"portal:{tenant.pk}"] = {"account": account.pk, "hash": auth.session_hash(account)}
    session.save()
    found = titles(suggest(client, "parcel insurance members pickup partners depot"))
    assert "Parcel insurance for members" in found
    assert "Parcel pickup for partners" in found
    assert "Parcel escalation checklist for agents" not in found
    anonymous = titles(suggest(visitor(), "parcel insurance members pickup partners depot"))
    assert "Parcel insurance for members" not in anonymous and "Parcel pickup for partners" not in anonymous


def test_snippets_keep_only_marks(tenant, hc):
    for row in suggest(visitor(), "parcel tracking link")["results"]:
        assert "<" not in row["snippet"].replace("<mark>", "").replace("</mark>", "")


def test_the_suggestions_cost_the_same_queries_whatever_the_results(tenant, hc):
    client = visitor()
    suggest(client, "warm up the session")  # the session exists from here on
    with QueryCounter(connection) as few:
        suggest(client, "refunds")
    with QueryCounter(connection) as many:
        suggest(client, "parcel tracking refunds arrived")
    assert len(suggest(client, "parcel tracking refunds arrived")["results"]) >= 2
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_short_or_empty_text_asks_nothing_and_records_nothing(tenant, hc):
    assert suggest(visitor(), "") == {"results": [], "search_id": None}
    assert suggest(visitor(), "ab")["results"] == []
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_the_option_turns_suggestions_off(tenant, hc):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.filter(tenant=tenant).update(suggest_in_request_form=False)
    assert suggest(visitor(), "parcel tracking") == {"results": [], "search_id": None}
    page = visitor().get("/hc/requests/new/").content.decode()
    assert "request-suggestions" not in page and "request_suggest.js" not in page
    with tenant_scope(tenant):
        HelpCenterSettings.objects.filter(tenant=tenant).update(suggest_in_request_form=True)
    page = visitor().get("/hc/requests/new/").content.decode()
    assert 'id="request-suggestions"' in page and "request_suggest.js" in page


def test_suggestions_are_rate_limited_per_ip(tenant, hc, settings):
    settings.PORTAL_SUGGESTIONS_PER_IP_PER_HOUR = 2
    client = visitor()
    suggest(client, "parcel")
    suggest(client, "parcel tracking")
    response = client.get(SUGGEST, {"q": "parcel tracking link"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_another_tenants_host_knows_nothing_of_these_articles(tenant, other_tenant, hc):
    data = suggest(visitor(host=OTHER_HOST), "parcel tracking refunds")
    assert data["results"] == []


# --- what is recorded -----------------------------------------------------------------------------

def test_one_form_is_one_search_refined_while_typing(tenant, hc):
    client = visitor()
    first = suggest(client, "parcel")
    second = suggest(client, "parcel never arrived", search=first["search_id"])
    third = suggest(client, "parcel never arrived refund please", search=second["search_id"])
    assert first["search_id"] == second["search_id"] == third["search_id"]
    with tenant_scope(tenant):
        event = SearchEvent.objects.get()
        session = SelfServiceSession.objects.get(key=KEY)
    assert event.source == "request_form" and event.session_id == session.pk
    assert event.query == "parcel never arrived refund please"
    assert event.result_count == len(third["results"])
    assert session.search_count == 1 and session.outcome == "none"


def test_a_search_id_of_another_visit_starts_a_search_of_its_own(tenant, hc):
    mine = suggest(visitor(), "parcel tracking")
    theirs = suggest(visitor("another-visit-key-0123456789"), "parcel refunds", search=mine["search_id"])
    assert theirs["search_id"] != mine["search_id"]
    with tenant_scope(tenant):
        assert SearchEvent.objects.get(pk=mine["search_id"]).query == "parcel tracking"


def test_a_visitor_without_a_session_gets_one(tenant, hc):
    client = visitor(key=None)
    response = client.get(SUGGEST, {"q": "parcel tracking"})
    cookie = response.cookies["hc_session"]
    assert cookie["httponly"] and cookie["path"] == "/hc/" and len(cookie.value) >= 16
    with tenant_scope(tenant):
        assert SelfServiceSession.objects.get(key=cookie.value).search_count == 1


def test_opening_a_suggestion_counts_the_click_and_goes_to_the_article(tenant, hc):
    client = visitor()
    data = suggest(client, "track my parcel")
    row = next(r for r in data["results"] if r["article_id"] == hc.tracking.pk)
    assert row["open_url"].startswith(f"/hc/requests/suggest/{data['search_id']}/open/")
    response = client.get(row["open_url"])
    assert response.status_code == 302 and response["Location"] == row["url"]
    with tenant_scope(tenant):
        event = SearchEvent.objects.get(pk=data["search_id"])
    assert event.clicked_article_id == hc.tracking.pk and event.clicked_at is not None


def test_a_click_on_another_visits_search_counts_nothing(tenant, hc):
    data = suggest(visitor(), "track my parcel")
    url = data["results"][0]["open_url"]
    assert visitor("someone-else-key-0123456789").get(url).status_code == 302
    with tenant_scope(tenant):
        assert SearchEvent.objects.get(pk=data["search_id"]).clicked_article_id is None


def test_the_open_link_goes_only_to_help_center_pages(tenant, hc):
    data = suggest(visitor(), "track my parcel")
    base = f"/hc/requests/suggest/{data['search_id']}/open/"
    for to in ("https://evil.example/", "//evil.example/hc/", "/console/", ""):
        assert visitor().get(base, {"article": hc.tracking.pk, "to": to}).status_code == 400
    assert visitor().get(base, {"to": "/hc/en/"}).status_code == 400
    with tenant_scope(tenant):
        assert SearchEvent.objects.get(pk=data["search_id"]).clicked_article_id is None


def test_another_tenants_search_is_404(tenant, other_tenant, hc):
    data = suggest(visitor(), "track my parcel")
    url = data["results"][0]["open_url"]
    assert visitor(host=OTHER_HOST).get(url).status_code == 404


# --- deflection ---------------------------------------------------------------------------------

def test_a_request_sent_after_suggestions_ends_the_visit_in_a_ticket(tenant, hc):
    client = visitor()
    data = suggest(client, "my parcel never arrived")
    client.get(data["results"][0]["open_url"])
    response = client.post("/hc/requests/new/", submission(tenant))
    assert response.status_code == 200, response.content
    with tenant_scope(tenant):
        ticket = Ticket.objects.get()
        session = SelfServiceSession.objects.get(key=KEY)
    assert session.outcome == "ticket" and session.ticket_id == ticket.pk
    assert session.contact_id == ticket.requester_id and session.outcome_at is not None


def test_a_visit_that_reads_a_suggestion_and_sends_nothing_stays_deflected(tenant, hc):
    client = visitor()
    data = suggest(client, "my parcel never arrived")
    client.get(data["results"][0]["open_url"])
    other = visitor("another-visit-key-0123456789")
    other.post("/hc/requests/new/", submission(tenant))
    with tenant_scope(tenant):
        session = SelfServiceSession.objects.get(key=KEY)
        assert Ticket.objects.count() == 1
    assert session.outcome == "none" and session.ticket_id is None


def test_the_contact_link_of_the_help_center_carries_the_visit(tenant, hc):
    with tenant_scope(tenant):
        search_record(tenant=tenant, query="parcel lost", locale="en", source="portal", result_count=0,
                      session_key=KEY)
    page = visitor(key=None).get("/hc/requests/new/", {"hc_session": KEY, "q": "parcel lost"}).content.decode()
    assert f'name="hc_session" value="{KEY}"' in page
    assert 'value="parcel lost"' in page  # the subject starts from what they searched for
    visitor(key=None).post("/hc/requests/new/", submission(tenant, hc_session=KEY))
    with tenant_scope(tenant):
        assert SelfServiceSession.objects.get(key=KEY).outcome == "ticket"


def test_a_request_without_a_visit_records_no_session(tenant, hc):
    assert visitor(key=None).post("/hc/requests/new/", submission(tenant)).status_code == 200
    with tenant_scope(tenant):
        assert not SelfServiceSession.objects.exists()


def test_the_form_works_and_is_labelled_without_javascript(tenant, hc):
    page = visitor().get("/hc/requests/new/").content.decode()
    assert 'aria-labelledby="request-suggestions-heading"' in page and 'role="status"' in page
    assert 'action="/hc/requests/new/"' in page
