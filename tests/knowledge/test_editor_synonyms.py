"""The console's search-synonyms page (``/console/kb/synonyms/``): sets per language,
add, edit, delete through the API's services, errors on the form, rights as in the API, another
tenant's set a 404."""
from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Role
from knowledge.models import HelpCenterSettings, SearchSynonym
from knowledge.search import synonyms as services
from tests.factories import agent_in
from tests.knowledge.editor_fixtures import (  # noqa: F401 - fixtures
    admin_client,
    agent_client,
    client_for,
    light_agent,
    light_client,
)
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db

LIST = "/console/kb/synonyms/"


@pytest.fixture
def bilingual(tenant):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"locales": ["en", "tr"]})


def make(tenant, locale, terms) -> SearchSynonym:
    with tenant_scope(tenant):
        return services.synonym_create(tenant=tenant, locale=locale, terms=terms)


def rows(tenant) -> list[tuple[str, list[str]]]:
    with tenant_scope(tenant):
        return [(row.locale, row.terms) for row in SearchSynonym.objects.filter(tenant=tenant).order_by("id")]


def test_the_route_names_and_paths():
    assert reverse("kb:synonyms") == LIST
    assert reverse("kb:synonym_edit", args=[3]) == f"{LIST}3/"
    assert reverse("kb:synonym_delete", args=[3]) == f"{LIST}3/delete/"


def test_the_page_lists_the_sets_per_language_with_the_add_form(tenant, bilingual, admin_client):
    refund = make(tenant, "en", ["refund", "money back"])
    make(tenant, "tr", ["iade", "para iadesi"])
    response = admin_client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="synonyms-en"' in page and 'id="synonyms-tr"' in page
    assert "refund, money back" in page and "iade, para iadesi" in page
    assert page.index("refund, money back") < page.index('id="synonyms-tr"') < page.index("iade, para iadesi")
    assert reverse("kb:synonym_edit", args=[refund.pk]) in page
    assert reverse("kb:synonym_delete", args=[refund.pk]) in page
    assert 'name="terms"' in page and 'action="/console/kb/synonyms/"' in page
    # The editor's navigation links here, marked as the current page.
    assert f'<a href="{LIST}" aria-current="page">' in page
    assert f'href="{LIST}"' in admin_client.get(reverse("kb:tree")).content.decode()


def test_the_page_is_in_turkish_for_a_turkish_agent(tenant, bilingual, owner):
    owner.locale = "tr"
    owner.save()
    page = client_for(owner).get(LIST).content.decode()
    assert "Arama eş anlamlıları" in page and "Eş anlamlı ekle" in page


def test_adding_a_set(tenant, bilingual, admin_client):
    response = admin_client.post(LIST, {"locale": "tr", "terms": "iade\npara iadesi, geri ödeme\n\n"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}#synonyms-tr"
    assert rows(tenant) == [("tr", ["iade", "para iadesi", "geri ödeme"])]
    assert "iade, para iadesi, geri ödeme" in admin_client.get(LIST).content.decode()


@pytest.mark.parametrize("data, message", [
    ({"locale": "en", "terms": "refund"}, "Give at least two different terms."),
    ({"locale": "en", "terms": "refund\nREFUND"}, "Give at least two different terms."),
    ({"locale": "en", "terms": "refund\n" + "x" * 61}, "A term can be at most 60 characters."),
    ({"locale": "en", "terms": "refund\n!!!"}, "has no letters or digits."),
    ({"locale": "en", "terms": "\n".join(f"t{n}" for n in range(21))}, "A set can have at most 20 terms."),
    ({"locale": "en", "terms": ""}, "This field is required."),
    ({"locale": "xx", "terms": "a\nb"}, "Select a valid choice."),
    ({"terms": "a\nb"}, "This field is required."),
])
def test_bad_input_shows_the_error_and_adds_nothing(tenant, bilingual, admin_client, data, message):
    response = admin_client.post(LIST, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "Nothing was saved" in page
    assert rows(tenant) == []


def test_the_limit_of_sets_is_the_services_and_shown_on_the_form(tenant, bilingual, admin_client, monkeypatch):
    monkeypatch.setattr(services, "MAX_SETS", 1)
    make(tenant, "en", ["refund", "money back"])
    response = admin_client.post(LIST, {"locale": "en", "terms": "parcel\npackage"})
    assert response.status_code == 400
    assert "This help center has the most synonym sets it can have." in response.content.decode()
    assert len(rows(tenant)) == 1


def test_editing_a_set(tenant, bilingual, admin_client):
    row = make(tenant, "en", ["refund", "money back"])
    url = reverse("kb:synonym_edit", args=[row.pk])
    page = admin_client.get(url).content.decode()
    assert "refund\nmoney back" in page and 'value="en" selected' in page
    response = admin_client.post(url, {"locale": "tr", "terms": "iade\npara iadesi"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}#synonyms-tr"
    assert rows(tenant) == [("tr", ["iade", "para iadesi"])]


def test_a_bad_edit_shows_the_error_and_changes_nothing(tenant, bilingual, admin_client):
    row = make(tenant, "en", ["refund", "money back"])
    url = reverse("kb:synonym_edit", args=[row.pk])
    response = admin_client.post(url, {"locale": "tr", "terms": "iade"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give at least two different terms." in page and 'class="field field-invalid"' in page
    assert rows(tenant) == [("en", ["refund", "money back"])]


def test_a_set_in_a_language_no_longer_offered_can_still_be_edited(tenant, bilingual, admin_client):
    row = make(tenant, "de", ["Erstattung", "Rückzahlung"])
    assert "Erstattung, Rückzahlung" in admin_client.get(LIST).content.decode()
    url = reverse("kb:synonym_edit", args=[row.pk])
    assert admin_client.post(url, {"locale": "de", "terms": "Erstattung\nGeld zurück"}).status_code == 302
    assert rows(tenant) == [("de", ["Erstattung", "Geld zurück"])]


def test_deleting_a_set(tenant, bilingual, admin_client):
    row = make(tenant, "en", ["refund", "money back"])
    keep = make(tenant, "en", ["parcel", "package"])
    url = reverse("kb:synonym_delete", args=[row.pk])
    page = admin_client.get(url).content.decode()
    assert "refund, money back" in page and f'action="{url}"' in page
    response = admin_client.post(url)
    assert response.status_code == 302 and response["Location"] == f"{LIST}#synonyms-en"
    assert rows(tenant) == [("en", keep.terms)]


def test_agents_read_the_sets_but_only_kb_publish_writes(tenant, bilingual, agent_client, light_client):
    row = make(tenant, "en", ["refund", "money back"])
    for client in (agent_client, light_client):
        page = client.get(LIST)
        assert page.status_code == 200
        html = page.content.decode()
        assert "refund, money back" in html
        assert 'name="terms"' not in html and reverse("kb:synonym_edit", args=[row.pk]) not in html
        assert client.post(LIST, {"locale": "en", "terms": "a\nb"}).status_code == 403
        for url in (reverse("kb:synonym_edit", args=[row.pk]), reverse("kb:synonym_delete", args=[row.pk])):
            assert client.get(url).status_code == 403
            assert client.post(url, {"locale": "en", "terms": "a\nb"}).status_code == 403
    assert rows(tenant) == [("en", ["refund", "money back"])]


def test_people_without_kb_view_are_refused(tenant, bilingual):
    analyst = client_for(agent_in(tenant, role=Role.ANALYST, email="analyst@acme.test"))
    assert analyst.get(LIST).status_code == 403


def test_another_tenants_set_is_a_404(tenant, other_tenant, bilingual, admin_client):
    theirs = make(other_tenant, "en", ["globex secret", "hidden term"])
    assert "globex secret" not in admin_client.get(LIST).content.decode()
    for url in (reverse("kb:synonym_edit", args=[theirs.pk]), reverse("kb:synonym_delete", args=[theirs.pk])):
        assert admin_client.get(url).status_code == 404
        assert admin_client.post(url, {"locale": "en", "terms": "a\nb"}).status_code == 404
    assert rows(other_tenant) == [("en", ["globex secret", "hidden term"])]


def test_the_list_keeps_a_constant_query_count(tenant, bilingual, admin_client):
    make(tenant, "en", ["refund", "money back"])
    admin_client.get(LIST)
    with QueryCounter(connection) as few:
        admin_client.get(LIST)
    for n in range(8):
        make(tenant, "tr" if n % 2 else "en", [f"a{n}", f"b{n}"])
    make(tenant, "de", ["x", "y"])
    with QueryCounter(connection) as many:
        assert "a7, b7" in admin_client.get(LIST).content.decode()
    assert len(many) == len(few)
