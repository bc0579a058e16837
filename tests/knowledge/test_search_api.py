"""``GET /api/v1/kb/search/``, ``/api/v1/kb/autocomplete/``, ``/api/v1/kb/synonyms/`` and the
console's ``/console/kb/search.json``: shapes, 4xx, audience, logging, isolation, query counts."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role, Scope
from helpdesk.tenancy.services import api_key_create
from knowledge.models import HelpCenterSettings, SearchEvent, SearchSource, SearchSynonym
from knowledge.services import content
from tests.factories import OrganizationFactory, agent_in
from tests.knowledge import search_helpcenter
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

SEARCH, AUTOCOMPLETE, SYNONYMS = "/api/v1/kb/search/", "/api/v1/kb/autocomplete/", "/api/v1/kb/synonyms/"
CONSOLE = "/console/kb/search.json"


@pytest.fixture
def hc(tenant, agent):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})
        return search_helpcenter.build(tenant, agent, organization=OrganizationFactory(tenant=tenant))


def test_search_shape_and_logging(tenant, hc, api_client):
    response = api_client.get(SEARCH, {"q": "refunds", "locale": "en"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "full" and body["total"] >= 2
    first = body["results"][0]
    assert set(first) == {"article_id", "title", "snippet", "url", "score", "locale"}
    assert first["article_id"] == hc["refunds"].pk and first["title"] == "How do refunds work?"
    assert first["url"].startswith("http") and f"/hc/en/articles/{hc['refunds'].pk}-" in first["url"]
    assert "<mark>" in first["snippet"] or first["snippet"]
    with tenant_scope(tenant):
        event = SearchEvent.objects.get(pk=body["search_id"])
    assert event.source == SearchSource.API and event.result_count == body["total"] and event.query == "refunds"


def test_search_in_turkish_and_default_locale(tenant, hc, api_client):
    body = api_client.get(SEARCH, {"q": "siparişlerim", "locale": "tr"}).json()
    assert body["results"][0]["article_id"] == hc["tracking"].pk and body["results"][0]["locale"] == "tr"
    body = api_client.get(SEARCH, {"q": "password"}).json()  # no locale: the tenant's default (en)
    assert body["results"][0]["article_id"] == hc["password"].pk


def test_search_session_key_ties_the_search_to_the_visit(tenant, hc, api_client):
    body = api_client.get(SEARCH, {"q": "refund", "session": "widget-visitor-0001"}).json()
    with tenant_scope(tenant):
        assert SearchEvent.objects.get(pk=body["search_id"]).session.key == "widget-visitor-0001"


@pytest.mark.parametrize("params,field", [
    ({}, "q"), ({"q": ""}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 201}, "q"),
    ({"q": "refund", "locale": "<b>"}, "locale"), ({"q": "refund", "locale": "de"}, "locale"),
    ({"q": "refund", "limit": "0"}, "limit"), ({"q": "refund", "limit": "many"}, "limit"),
    ({"q": "refund", "session": "short"}, "session"),
])
def test_search_bad_input_is_a_400_and_logs_nothing(tenant, hc, api_client, params, field):
    response = api_client.get(SEARCH, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_autocomplete(tenant, hc, api_client):
    response = api_client.get(AUTOCOMPLETE, {"q": "resett", "locale": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["article_id"] == hc["password"].pk and body["mode"] == "full"
    assert set(body["results"][0]) == {"article_id", "title", "url", "locale"}
    assert api_client.get(AUTOCOMPLETE, {"locale": "en"}).status_code == 400
    with tenant_scope(tenant):
        assert not SearchEvent.objects.exists()


def test_api_answers_as_the_public_help_center(tenant, hc, api_client, agent):
    """Whatever the credentials (a full-scope key, an agent's session), the API's search shows
    what the public sees: internal, signed-in and organization articles never appear."""
    restricted = {hc[k].pk for k in ("internal", "signed_in", "organization")}
    session = APIClient()
    session.force_login(agent)
    for client in (api_client, session):
        for query in ("refund", "refund override procedure", "enterprise refund terms", "refund history",
                      "agents override code"):
            for path in (SEARCH, AUTOCOMPLETE):
                response = client.get(path, {"q": query, "locale": "en", "limit": 50},
                                      HTTP_HOST="acme.localhost")
                assert response.status_code == 200, response.content
                assert not restricted & {r["article_id"] for r in response.json()["results"]}


def test_scopes_are_required(tenant, hc):
    key, raw = api_key_create(tenant=tenant, name="tickets only", scopes=[Scope.TICKETS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(SEARCH, {"q": "refund"}).status_code == 403
    assert client.get(AUTOCOMPLETE, {"q": "refund"}).status_code == 403
    assert APIClient().get(SEARCH, {"q": "refund"}).status_code in (401, 403)


def test_other_tenants_key_finds_nothing_of_ours(tenant, hc, other_tenant, other_api_client):
    with tenant_scope(other_tenant):
        HelpCenterSettings.objects.update_or_create(tenant=other_tenant, defaults={"locales": ["en", "tr"]})
    for path in (SEARCH, AUTOCOMPLETE):
        response = other_api_client.get(path, {"q": "refund", "locale": "en"})
        assert response.status_code == 200 and response.json()["results"] == []


def test_search_query_count_does_not_grow(tenant, hc, api_client, agent):
    def measure() -> list[int]:
        out = []
        for path, params in ((SEARCH, {"q": "refund"}), (SEARCH, {"q": "refnud"}), (AUTOCOMPLETE, {"q": "ref"})):
            with QueryCounter(connection) as counter:
                assert api_client.get(path, params).status_code == 200
            out.append(len(counter))
        return out

    measure()  # warm: the key's first use of the day is recorded once
    before = measure()
    with tenant_scope(tenant):
        for n in range(12):
            content.article_create(tenant=tenant, actor=agent, section=hc["refunds"].section, translations=[
                content.TranslationInput("en", f"Refund rule {n}", "<p>Refund rule.</p>", "published")])
    assert measure() == before


# --- synonyms ------------------------------------------------------------------------------

def test_synonyms_crud_and_effect(tenant, hc, api_client, other_api_client):
    response = api_client.post(SYNONYMS, {"locale": "en", "terms": ["refund", "reimbursement", "money back"]},
                               format="json")
    assert response.status_code == 201, response.content
    synonym = response.json()
    assert synonym["terms"] == ["refund", "reimbursement", "money back"]
    found = api_client.get(SEARCH, {"q": "reimbursement"}).json()["results"]
    assert found and found[0]["article_id"] == hc["refunds"].pk
    assert api_client.get(SYNONYMS).json()["results"][0]["id"] == synonym["id"]
    url = f"{SYNONYMS}{synonym['id']}/"
    assert other_api_client.get(url).status_code == 404
    assert other_api_client.delete(url).status_code == 404
    response = api_client.patch(url, {"terms": ["refund", "payback"]}, format="json")
    assert response.status_code == 200 and response.json()["terms"] == ["refund", "payback"]
    assert api_client.get(SEARCH, {"q": "reimbursement"}).json()["results"] == []
    assert api_client.delete(url).status_code == 204
    with tenant_scope(tenant):
        assert not SearchSynonym.objects.exists()


@pytest.mark.parametrize("payload", [
    {"locale": "en", "terms": ["refund"]}, {"locale": "en", "terms": ["refund", "Refunds"]},
    {"locale": "xx-!!", "terms": ["a", "b"]}, {"locale": "en", "terms": "refund"},
    {"locale": "en", "terms": ["refund", "x" * 61]}, {"locale": "en", "terms": ["a", "b"], "extra": 1},
])
def test_synonym_bad_input(tenant, api_client, payload):
    assert api_client.post(SYNONYMS, payload, format="json").status_code == 400
    with tenant_scope(tenant):
        assert not SearchSynonym.objects.exists()


def test_synonym_writes_need_kb_write(tenant):
    key, raw = api_key_create(tenant=tenant, name="read", scopes=[Scope.KB_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(SYNONYMS).status_code == 200
    assert client.post(SYNONYMS, {"locale": "en", "terms": ["a", "b"]}, format="json").status_code == 403


# --- the console's search -------------------------------------------------------------------

def console_client(user) -> Client:
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(user)
    return client


def test_console_search_shows_internal_articles_marked(tenant, hc, agent):
    response = console_client(agent).get(CONSOLE, {"q": "refund override", "locale": "en"})
    assert response.status_code == 200
    body = response.json()
    internal = next(r for r in body["results"] if r["article_id"] == hc["internal"].pk)
    assert internal["internal"] is True and internal["visibility"] == "internal"
    assert body["mode"] == "full" and response["Cache-Control"] == "private, no-store"
    with tenant_scope(tenant):
        event = SearchEvent.objects.get(pk=body["search_id"])
    assert event.source == SearchSource.CONSOLE and event.user_id == agent.pk


def test_console_search_input(tenant, hc, agent):
    client = console_client(agent)
    assert client.get(CONSOLE, {"q": ""}).json()["results"] == []
    assert client.get(CONSOLE, {"q": "x" * 201}).status_code == 400
    assert client.get(CONSOLE, {"q": "refund", "locale": "<x>"}).status_code == 400
    body = client.get(CONSOLE, {"q": "sipariş", "locale": "tr"}).json()
    assert body["results"][0]["article_id"] == hc["tracking"].pk
    with tenant_scope(tenant):
        assert SearchEvent.objects.count() == 1


def test_console_search_needs_a_member(tenant, hc, other_tenant):
    assert Client(HTTP_HOST="acme.localhost").get(CONSOLE, {"q": "refund"}).status_code == 302
    outsider = agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test")
    response = console_client(outsider).get(CONSOLE, {"q": "refund"})
    assert response.status_code == 403 and b"How do refunds work" not in response.content


def test_the_api_says_when_the_search_is_the_simple_one(tenant, hc, api_client, agent, monkeypatch):
    """Embedded mode (SQLite) answers with the simple search, and says so (``mode``)."""
    from knowledge.search import service

    monkeypatch.setattr(service, "search_mode", lambda: service.SIMPLE)
    body = api_client.get(SEARCH, {"q": "refunds", "locale": "en"}).json()
    assert body["mode"] == "simple" and body["results"][0]["article_id"] == hc["refunds"].pk
    assert api_client.get(AUTOCOMPLETE, {"q": "reset", "locale": "en"}).json()["mode"] == "simple"
    assert console_client(agent).get(CONSOLE, {"q": "refund"}).json()["mode"] == "simple"
