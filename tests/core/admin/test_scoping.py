"""A tenant admin sees only the tenant's rows; another tenant's object behaves as a missing one."""
from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.urls import reverse

from helpdesk.tenancy.context import dangerously_unscoped
from helpdesk.tenancy.models import Tenant, TenantOwned
from tests.core.admin.conftest import make_rows
from tests.queries import QueryCounter

pytestmark = pytest.mark.django_db


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj, view: str = "change") -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_{view}", args=[obj.pk])


def registered(obj) -> bool:
    return type(obj) in admin.site._registry


def leaks_b(content: bytes) -> bool:
    return re.search(rb"(?i)globex", content) is not None


def test_every_tenant_changelist_shows_only_the_tenants_rows(admin_client, rows_a, rows_b):
    for model, model_admin in admin.site._registry.items():
        response = admin_client.get(changelist(model))
        assert response.status_code in (200, 403), model
        assert not leaks_b(response.content), model
    for row_a, row_b in zip(rows_a.all(), rows_b.all()):
        if not registered(row_a):
            continue
        content = admin_client.get(changelist(type(row_a))).content.decode()
        assert change(row_a) in content, type(row_a)
        assert change(row_b) not in content, type(row_b)


def test_search_and_filters_stay_inside_the_tenant(admin_client, rows_a, rows_b):
    for query in ({"q": "globex"}, {"q": "person@globex.example"}, {"q": "Contact"},
                  {"tenant__id__exact": rows_b.contact.tenant_id}):
        content = admin_client.get(changelist(type(rows_a.contact)), query).content.decode()
        assert change(rows_b.contact) not in content
        assert "Contact globex" not in content
    # A filter over users lists only users that appear in the tenant's rows.
    response = admin_client.get(changelist(type(rows_a.audit_entry)))
    assert not leaks_b(response.content)


def test_the_tenants_own_tenant_row_only(admin_client, tenant, other_tenant):
    content = admin_client.get(changelist(Tenant)).content.decode()
    assert change(tenant) in content
    assert change(other_tenant) not in content


def _missing_like(client, url_b: str, url_missing: str) -> None:
    """Same answer for another tenant's object as for an id that does not exist."""
    theirs = client.get(url_b, follow=True)
    missing = client.get(url_missing, follow=True)
    assert theirs.status_code == missing.status_code
    assert theirs.redirect_chain == missing.redirect_chain == [("/admin/", 302)]
    assert not leaks_b(theirs.content)
    theirs_messages = [str(m) for m in theirs.context["messages"]]
    missing_messages = [str(m) for m in missing.context["messages"]]
    assert len(theirs_messages) == len(missing_messages) == 1
    assert "exist" in theirs_messages[0]
    normalise = lambda text: re.sub(r"“[^”]*”", "“…”", text)  # noqa: E731 - the id differs
    assert normalise(theirs_messages[0]) == normalise(missing_messages[0])


def test_another_tenants_objects_are_exactly_like_missing_ones(admin_client, rows_a, rows_b, other_tenant):
    for row in [*rows_b.all(), other_tenant]:
        if not registered(row):
            continue
        for view in ("change", "history", "delete"):
            url_b = change(row, view)
            url_missing = url_b.replace(f"/{row.pk}/", "/987654321/")
            _missing_like(admin_client, url_b, url_missing)


def test_refused_views_on_missing_objects_answer_as_missing(admin_client, rows_a, rows_b):
    """Read-only or undeletable models: another tenant's id redirects as missing; an own object is 403."""
    for obj_b, obj_a in ((rows_b.api_key, rows_a.api_key), (rows_b.audit_entry, rows_a.audit_entry)):
        url_b = change(obj_b, "delete")
        _missing_like(admin_client, url_b, url_b.replace(f"/{obj_b.pk}/", "/987654321/"))
        assert admin_client.get(change(obj_a, "delete")).status_code == 403
    response = admin_client.post(change(rows_b.audit_entry), {"action": "forged"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert admin_client.post(change(rows_a.audit_entry), {"action": "forged"}).status_code == 403


def test_posting_to_another_tenants_object_changes_nothing(admin_client, rows_b):
    organization = rows_b.organization
    response = admin_client.post(change(organization), {"name": "Hijacked", "domains": "[]", "notes": ""})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    response = admin_client.post(change(organization, "delete"), {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    with dangerously_unscoped():
        organization.refresh_from_db()
    assert organization.name == "Org globex"


def test_bulk_actions_ignore_another_tenants_ids(admin_client, rows_a, rows_b):
    response = admin_client.post(changelist(type(rows_b.organization)), {
        "action": "delete_selected", "_selected_action": [rows_b.organization.pk], "post": "yes",
    })
    assert response.status_code in (200, 302)
    with dangerously_unscoped():
        assert type(rows_b.organization).unscoped.filter(pk=rows_b.organization.pk).exists()


def test_foreign_key_choices_are_the_tenants_own(admin_client, rows_a, rows_b):
    contact_add = admin_client.get(reverse("admin:people_contact_add")).content.decode()
    assert "Org acme" in contact_add
    assert not leaks_b(contact_add.encode())
    team_change = admin_client.get(change(rows_a.team)).content.decode()
    assert "member@acme.test" in team_change
    assert "member@globex.test" not in team_change
    assert "root@" not in team_change


def test_another_tenants_choice_is_refused_on_submit(admin_client, rows_a, rows_b):
    from helpdesk.people.models import Contact

    response = admin_client.post(reverse("admin:people_contact_add"), {
        "name": "Smuggler", "organization": rows_b.organization.pk, "locale": "", "timezone": "", "notes": "",
        "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    with dangerously_unscoped():
        assert not Contact.unscoped.filter(name="Smuggler").exists()
    response = admin_client.post(change(rows_a.team), {
        "name": rows_a.team.name, "description": "",
        "members-TOTAL_FORMS": "1", "members-INITIAL_FORMS": "0",
        "members-0-user": rows_b.membership.user_id, "members-0-is_lead": "on",
    })
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["user"]


def test_superusers_see_every_tenant(super_client, rows_a, rows_b):
    for row_a, row_b in zip(rows_a.all(), rows_b.all()):
        if not registered(row_a):
            continue
        content = super_client.get(changelist(type(row_a))).content.decode()
        assert change(row_a) in content and change(row_b) in content, type(row_a)
        assert super_client.get(change(row_b)).status_code == 200


def test_the_tenant_column_is_for_superusers_only(super_client, admin_client, rows_a, rows_b):
    page = super_client.get(change(rows_b.team)).content.decode()
    assert "Globex Corp" in page
    assert 'name="tenant"' not in page  # shown, not editable
    page = admin_client.get(change(rows_a.team)).content.decode()
    assert "field-tenant" not in page
    assert "field-tenant" not in admin_client.get(changelist(type(rows_a.team))).content.decode()


@pytest.mark.parametrize("attr", ["membership", "team", "contact", "api_key", "audit_entry", "event", "webhook",
                                  "delivery"])
def test_changelist_queries_do_not_grow_with_rows(admin_client, super_client, tenant, other_tenant, attr):
    rows = make_rows(tenant)
    model = type(getattr(rows, attr))
    url = changelist(model)
    for client in (admin_client, super_client):
        client.get(url)
        with QueryCounter(connection) as few:
            assert client.get(url).status_code == 200
        for number in range(2):
            make_rows(tenant if client is admin_client else other_tenant, suffix=f"-{id(client)}-{number}")
        with QueryCounter(connection) as many:
            assert client.get(url).status_code == 200
        assert len(many) == len(few), (model, [q["sql"] for q in many.captured_queries])


def test_every_tenant_owned_model_in_the_admin_is_covered_here(rows_a):
    covered = {type(row) for row in rows_a.all()}
    registered_owned = {model for model in admin.site._registry if issubclass(model, TenantOwned)}
    assert registered_owned <= covered, registered_owned - covered


def test_the_short_object_url_redirects_only_to_objects_of_the_tenant(admin_client, rows_a, rows_b):
    short = lambda obj: change(obj).removesuffix("change/")  # noqa: E731
    response = admin_client.get(short(rows_a.team))
    assert response.status_code == 302 and response["Location"] == change(rows_a.team)
    _missing_like(admin_client, short(rows_b.team), short(rows_b.team).replace(f"/{rows_b.team.pk}/", "/987654321/"))
