"""Customer data integrations: the signed call to a real local server, failures, cache, SSRF,
the answer's allowlist, the management services and the API."""
from __future__ import annotations

import json
import time

import pytest
from django.core.exceptions import ValidationError

from helpdesk.audit.models import AuditEntry
from helpdesk.people import integrations
from helpdesk.people.integrations import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    integration_create,
    integration_delete,
    integration_fetch,
    integration_test,
    integration_update,
    parse_panel,
    signed_headers,
    verify_signature,
)
from helpdesk.people.models import CustomerDataIntegration, IdentityKind
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Scope
from helpdesk.tenancy.services import api_key_create
from rest_framework.test import APIClient
from tests.conftest import clear_cache
from tests.core.people.shop import SECRET, closed_port_url, shop  # noqa: F401 - the fixture
from tests.factories import ContactFactory, ContactIdentityFactory, CustomerDataIntegrationFactory, \
    OrganizationFactory

pytestmark = pytest.mark.django_db

PANEL = {"title": "Acme Shop", "sections": [
    {"title": "Plan", "fields": [{"label": "Plan", "value": "Gold"}, {"label": "Since", "value": 2019},
                                 {"label": "VIP", "value": True},
                                 {"label": "Account", "value": "open", "url": "https://shop.example/a/1"}]},
    {"title": "Orders", "table": {"columns": ["Order", "Total"],
                                  "rows": [["#1001", "€30"],
                                           [{"value": "#1002", "url": "https://shop.example/o/2"}, 12]]}},
]}


@pytest.fixture
def customer(tenant):
    org = OrganizationFactory(tenant=tenant, name="Analytical Engines")
    contact = ContactFactory(tenant=tenant, name="Ada Lovelace", organization=org)
    ContactIdentityFactory(tenant=tenant, contact=contact, kind=IdentityKind.EMAIL, value="ada@example.com",
                           is_primary=True)
    ContactIdentityFactory(tenant=tenant, contact=contact, kind=IdentityKind.SOCIAL, provider="whatsapp",
                           value="905551112233")
    return contact


def integration_for(tenant, shop, **fields):  # noqa: F811 - shop is a fixture value here
    return CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret=SECRET, **fields)


def fetch(tenant, contact):
    with tenant_scope(tenant):
        return integration_fetch(tenant=tenant, contact=contact)


# --- the call ------------------------------------------------------------------------------


def test_the_call_is_signed_over_timestamp_and_body_and_carries_the_identities(tenant, customer, shop):  # noqa: F811
    integration = integration_for(tenant, shop, name="Shop")
    shop.answer_json(PANEL)
    [result] = fetch(tenant, customer)
    assert result.ok and not result.cached and result.integration_id == integration.pk
    assert result.panel["title"] == "Acme Shop"
    [request] = shop.requests
    assert request.signature_ok
    assert request.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert abs(int(request.headers[TIMESTAMP_HEADER]) - time.time()) < 60
    assert request.headers["Content-Type"] == "application/json"
    assert request.document == {"contact": {
        "id": customer.pk, "name": "Ada Lovelace",
        "identities": [{"kind": "email", "provider": "", "value": "ada@example.com"},
                       {"kind": "social", "provider": "whatsapp", "value": "905551112233"}],
        "organization": {"id": customer.organization_id, "name": "Analytical Engines"},
    }}
    # The signature binds the timestamp: the same body with another timestamp does not verify.
    assert not verify_signature(secret=SECRET, body=request.body, timestamp="1",
                                signature=request.headers[SIGNATURE_HEADER])


def test_signing_reuses_the_webhook_function_over_timestamp_dot_body():
    from helpdesk.events import webhooks

    headers = signed_headers(secret="s" * 16, body=b'{"a":1}', timestamp=1700000000)
    assert headers[SIGNATURE_HEADER] == webhooks.sign("s" * 16, b'1700000000.{"a":1}')
    assert headers[TIMESTAMP_HEADER] == "1700000000"


def test_a_wrong_secret_is_refused_by_the_shop_and_shown_as_a_notice(tenant, customer, shop):  # noqa: F811
    CustomerDataIntegrationFactory(tenant=tenant, url=shop.url, secret="not-the-shops-secret-at-all")
    [result] = fetch(tenant, customer)
    assert not result.ok and result.reason == "http_status" and "401" in result.detail
    assert "could not be reached" in result.notice


def test_a_slow_shop_times_out_politely_within_the_timeout(tenant, customer, shop):  # noqa: F811
    integration_for(tenant, shop, timeout_ms=300)
    shop.answer_json(PANEL, delay=2)
    started = time.monotonic()
    [result] = fetch(tenant, customer)
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.reason == "timeout"
    assert "300 ms" in result.detail and result.notice


def test_a_shop_that_sends_its_body_slowly_is_cut_at_the_deadline(tenant, customer, shop):  # noqa: F811
    # Headers at once, a body that never completes: the overall deadline still holds.
    integration_for(tenant, shop, timeout_ms=400)
    shop.answer(200, b'{"title": "x"', headers={"Content-Length": "100000"}, hold=2)
    started = time.monotonic()
    [result] = fetch(tenant, customer)
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.reason == "timeout"


def test_a_body_cut_short_is_a_failed_connection_not_an_answer(tenant, customer, shop):  # noqa: F811
    integration_for(tenant, shop)
    shop.answer(200, b'{"title": "x", "sections": []}', headers={"Content-Length": "100"})
    [result] = fetch(tenant, customer)
    assert not result.ok and result.reason == "connection"


def test_connection_refused_is_a_notice(tenant, customer, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = True
    CustomerDataIntegrationFactory(tenant=tenant, url=closed_port_url(), secret=SECRET)
    [result] = fetch(tenant, customer)
    assert not result.ok and result.reason == "refused" and result.notice


@pytest.mark.parametrize(("status", "body", "reason"), [
    (500, b"oops", "http_status"),
    (503, b"", "http_status"),
    (302, b"", "redirect"),
    (200, b"<html>not json</html>", "bad_json"),
    (200, b"[1, 2, 3]", "bad_shape"),
    (200, b'{"sections": "nope"}', "bad_shape"),
    (200, b"[" * 100000 + b"]" * 100000, "bad_json"),
])
def test_failures_are_results_with_a_reason_never_exceptions(tenant, customer, shop,  # noqa: F811
                                                             status, body, reason):
    integration_for(tenant, shop)
    shop.answer(status, body, headers={"Location": "http://127.0.0.1:1/elsewhere"} if status == 302 else None)
    [result] = fetch(tenant, customer)
    assert not result.ok and result.reason == reason, result
    assert result.notice and result.detail


def test_a_too_large_answer_is_refused_whether_declared_or_not(tenant, customer, shop):  # noqa: F811
    integration_for(tenant, shop)
    big = json.dumps({"title": "x" * (300 * 1024), "sections": []}).encode()
    shop.answer(200, big)
    [result] = fetch(tenant, customer)
    assert result.reason == "too_large" and "256 KB" in result.detail
    clear_cache()  # this worker's keys only: FLUSHDB would reset other workers' lockouts
    shop.answer(200, big, headers={"Content-Length": "10"})  # lies: only the bytes read count
    [result] = fetch(tenant, customer)
    assert not result.ok


def test_404_means_an_unknown_customer(tenant, customer, shop):  # noqa: F811
    integration_for(tenant, shop)
    shop.answer(404, b"")
    [result] = fetch(tenant, customer)
    assert result.ok and result.empty


# --- cache ----------------------------------------------------------------------------------


def test_answers_are_cached_per_contact_for_cache_seconds(tenant, customer, shop):  # noqa: F811
    integration = integration_for(tenant, shop, cache_seconds=300)
    shop.answer_json(PANEL)
    first = fetch(tenant, customer)[0]
    second = fetch(tenant, customer)[0]
    assert shop.hits == 1
    assert not first.cached and second.cached and second.panel == first.panel
    other = ContactFactory(tenant=tenant)
    fetch(tenant, other)
    assert shop.hits == 2  # another contact is its own entry
    # A changed URL or secret starts afresh.
    with tenant_scope(tenant):
        integration_update(integration=integration, secret="another-secret-0123456789")
    shop.secret = "another-secret-0123456789"
    fetch(tenant, customer)
    assert shop.hits == 3


def test_failures_are_cached_briefly_so_a_dead_shop_is_not_hammered(tenant, customer, shop):  # noqa: F811
    integration = integration_for(tenant, shop, cache_seconds=600)
    shop.answer(500, b"down")
    assert not fetch(tenant, customer)[0].ok
    again = fetch(tenant, customer)[0]
    assert shop.hits == 1 and again.cached and not again.ok
    assert integrations.failure_ttl(integration) == integrations.FAILURE_CACHE_SECONDS


def test_cache_seconds_zero_still_remembers_failures_a_few_seconds(tenant, customer, shop):  # noqa: F811
    integration = integration_for(tenant, shop, cache_seconds=0)
    shop.answer_json(PANEL)
    fetch(tenant, customer)
    fetch(tenant, customer)
    assert shop.hits == 2  # successes are not cached
    assert integrations.failure_ttl(integration) == integrations.MIN_FAILURE_CACHE_SECONDS


def test_only_the_tenants_active_integrations_are_called(tenant, other_tenant, customer, shop):  # noqa: F811
    integration_for(tenant, shop, name="B active")
    integration_for(tenant, shop, name="A inactive", is_active=False)
    CustomerDataIntegrationFactory(tenant=other_tenant, url=shop.url, secret=SECRET, name="Globex shop")
    shop.answer_json(PANEL)
    results = fetch(tenant, customer)
    assert [r.name for r in results] == ["B active"]
    assert shop.hits == 1


def test_several_integrations_are_called_in_parallel(tenant, customer, shop):  # noqa: F811
    for index in range(3):
        integration_for(tenant, shop, name=f"Shop {index}", timeout_ms=3000)
    shop.answer_json(PANEL, delay=0.5)
    started = time.monotonic()
    results = fetch(tenant, customer)
    assert all(r.ok for r in results) and len(results) == 3
    assert time.monotonic() - started < 1.3  # not 3 × 0.5 s


def test_another_tenants_contact_is_refused(tenant, other_tenant, shop):  # noqa: F811
    integration_for(tenant, shop)
    stranger = ContactFactory(tenant=other_tenant)
    with pytest.raises(ValueError):
        integration_fetch(tenant=tenant, contact=stranger)
    assert shop.hits == 0


# --- SSRF -----------------------------------------------------------------------------------


def test_private_and_loopback_addresses_are_refused_by_default(tenant, customer, shop, settings):  # noqa: F811
    integration_for(tenant, shop)
    settings.INTEGRATIONS_ALLOW_PRIVATE = False
    [result] = fetch(tenant, customer)
    assert not result.ok and result.reason == "private"
    assert "loopback" in result.detail and "127.0.0.1" in result.detail
    assert shop.hits == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]/", "http://[::ffff:127.0.0.1]/", "ftp://8.8.8.8/",
                                 "javascript:alert(1)", "http://user:pw@8.8.8.8/"])
def test_creating_an_integration_to_a_refused_url_is_a_validation_error(tenant, settings, url):
    settings.INTEGRATIONS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as info:
        integration_create(tenant=tenant, name="Internal", url=url, secret="x" * 20)
    assert "url" in info.value.message_dict
    with tenant_scope(tenant):
        assert not CustomerDataIntegration.objects.exists()


# --- the answer's allowlist (pure) ---------------------------------------------------------------


def test_parse_panel_keeps_the_documented_shape_only():
    panel = parse_panel({**PANEL, "script": "<script>", "sections": [*PANEL["sections"], "junk", {"html": "<b>"}]})
    assert panel["title"] == "Acme Shop"
    assert len(panel["sections"]) == 2
    plan = panel["sections"][0]
    assert plan["fields"][0] == {"label": "Plan", "text": "Gold", "url": "", "flag": None}
    assert plan["fields"][1]["text"] == "2019"
    assert plan["fields"][2]["flag"] is True
    assert plan["fields"][3]["url"] == "https://shop.example/a/1"
    table = panel["sections"][1]["table"]
    assert table["columns"] == ["Order", "Total"]
    assert table["rows"][1][0] == {"text": "#1002", "url": "https://shop.example/o/2", "flag": None}
    assert table["rows"][1][1]["text"] == "12"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>", "//evil.example/x",
                                 "/relative", "https://ok.example/a b", "vbscript:x", "https://", 42])
def test_only_http_and_https_links_survive(url):
    panel = parse_panel({"sections": [{"fields": [{"label": "L", "value": "v", "url": url}]}]})
    assert panel["sections"][0]["fields"][0]["url"] == ""


def test_parse_panel_cuts_to_the_limits_and_pads_rows():
    document = {"title": "t" * 1000, "sections": [
        {"title": "s", "fields": [{"label": f"f{i}", "value": "v" * 5000} for i in range(500)],
         "table": {"columns": [f"c{i}" for i in range(50)], "rows": [["a"]] * 1000}}
    ] * 100}
    panel = parse_panel(document)
    assert len(panel["title"]) == integrations.MAX_TITLE_CHARS
    assert len(panel["sections"]) == integrations.MAX_SECTIONS
    section = panel["sections"][0]
    assert len(section["fields"]) == integrations.MAX_FIELDS
    assert len(section["fields"][0]["text"]) == integrations.MAX_TEXT_CHARS
    assert len(section["table"]["columns"]) == integrations.MAX_COLUMNS
    assert len(section["table"]["rows"]) == integrations.MAX_ROWS
    assert len(section["table"]["rows"][0]) == integrations.MAX_COLUMNS  # padded


def test_parse_panel_refuses_what_is_not_a_panel():
    for document in ([], "x", 1, None, {"sections": {}}):
        with pytest.raises(integrations.PanelShapeError):
            parse_panel(document)
    # Nested values where text belongs show as empty, not as a crash.
    panel = parse_panel({"sections": [{"fields": [{"label": "x", "value": {"deep": [1, 2]}}]}]})
    assert panel["sections"][0]["fields"][0]["text"] == ""


# --- managing integrations -----------------------------------------------------------------------


def test_create_update_delete_are_audited_without_the_secret(tenant, owner, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = True
    integration = integration_create(tenant=tenant, actor=owner, name="Shop", url="http://127.0.0.1:9/x",
                                     secret="s" * 20, timeout_ms=1500, cache_seconds=60)
    assert integration.secret == "s" * 20 and integration.is_active
    with pytest.raises(ValidationError) as info:
        integration_create(tenant=tenant, name="Shop", url="http://127.0.0.1:9/x", secret="s" * 20)
    assert "name" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        integration_create(tenant=tenant, name="Short", url="http://127.0.0.1:9/x", secret="short",
                           timeout_ms=5)
    assert {"secret", "timeout_ms"} <= set(info.value.message_dict)
    updated = integration_update(integration=integration, actor=owner, secret="t" * 20, is_active=False)
    assert updated.secret == "t" * 20 and not updated.is_active
    integration_delete(integration=updated, actor=owner)
    with tenant_scope(tenant):
        actions = list(AuditEntry.objects.order_by("id").values_list("action", "before", "after"))
        assert not CustomerDataIntegration.objects.exists()
    assert [a for a, _b, _c in actions] == ["integration.created", "integration.updated", "integration.deleted"]
    assert "s" * 20 not in json.dumps(actions) and "t" * 20 not in json.dumps(actions)


def test_try_calls_now_with_a_sample_contact_without_the_cache(tenant, shop):  # noqa: F811
    integration = integration_for(tenant, shop, is_active=False)
    shop.answer_json(PANEL)
    for _ in range(2):
        result = integration_test(integration=integration)
        assert result.ok and result.panel["title"] == "Acme Shop"
    assert shop.hits == 2
    assert shop.requests[0].document["contact"]["name"] == "Ada Sample"


# --- API ------------------------------------------------------------------------------------


def test_api_crud_with_a_write_only_secret(api_client, tenant, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = True
    created = api_client.post("/api/v1/integrations/", {
        "name": "Shop", "url": "http://127.0.0.1:9/hook", "secret": "s" * 24, "timeout_ms": 1500,
    }, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Shop" and body["has_secret"] is True and body["timeout_ms"] == 1500
    assert "secret" not in body and "s" * 24 not in created.content.decode()
    pk = body["id"]
    listed = api_client.get("/api/v1/integrations/")
    assert [r["id"] for r in listed.json()["results"]] == [pk]
    assert "s" * 24 not in listed.content.decode()
    changed = api_client.patch(f"/api/v1/integrations/{pk}/", {"is_active": False, "secret": "u" * 24},
                               format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert "u" * 24 not in changed.content.decode()
    with tenant_scope(tenant):
        assert CustomerDataIntegration.objects.get(pk=pk).secret == "u" * 24
    assert api_client.delete(f"/api/v1/integrations/{pk}/").status_code == 204
    assert api_client.get(f"/api/v1/integrations/{pk}/").status_code == 404


def test_api_refuses_bad_input_and_changes_nothing(api_client, tenant, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE = False
    for payload in ({"name": "x", "url": "http://127.0.0.1/", "secret": "s" * 20},
                    {"name": "x", "url": "https://8.8.8.8/", "secret": "short"},
                    {"name": "", "url": "https://8.8.8.8/", "secret": "s" * 20},
                    {"name": "x", "url": "https://8.8.8.8/", "secret": "s" * 20, "timeout_ms": 0},
                    {"name": "x", "url": "https://8.8.8.8/", "secret": "s" * 20, "unknown": 1}):
        response = api_client.post("/api/v1/integrations/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
    with tenant_scope(tenant):
        assert not CustomerDataIntegration.objects.exists()


def test_api_needs_the_settings_write_scope(tenant):
    _key, raw = api_key_create(tenant=tenant, name="readonly", scopes=[Scope.TICKETS_WRITE, Scope.CONTACTS_WRITE])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    integration = CustomerDataIntegrationFactory(tenant=tenant)
    assert client.get("/api/v1/integrations/").status_code == 403
    assert client.get(f"/api/v1/integrations/{integration.pk}/").status_code == 403
    assert client.post("/api/v1/integrations/", {"name": "x", "url": "https://8.8.8.8/", "secret": "s" * 20},
                       format="json").status_code == 403


def test_api_another_tenants_integration_is_404(other_api_client, tenant):
    integration = CustomerDataIntegrationFactory(tenant=tenant)
    for method in ("get", "patch", "delete"):
        response = getattr(other_api_client, method)(f"/api/v1/integrations/{integration.pk}/", {}, format="json")
        assert response.status_code == 404
    assert other_api_client.post(f"/api/v1/integrations/{integration.pk}/test/", {},
                                 format="json").status_code == 404
    with tenant_scope(tenant):
        assert CustomerDataIntegration.objects.filter(pk=integration.pk).exists()


def test_api_try_with_a_contact(api_client, tenant, other_tenant, customer, shop):  # noqa: F811
    integration = integration_for(tenant, shop)
    shop.answer_json(PANEL)
    response = api_client.post(f"/api/v1/integrations/{integration.pk}/test/", {"contact": customer.pk},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True and response.json()["panel"]["title"] == "Acme Shop"
    assert shop.requests[0].document["contact"]["id"] == customer.pk
    stranger = ContactFactory(tenant=other_tenant)
    response = api_client.post(f"/api/v1/integrations/{integration.pk}/test/", {"contact": stranger.pk},
                               format="json")
    assert response.status_code == 404 and shop.hits == 1


# --- admin ----------------------------------------------------------------------------------


def test_the_admin_takes_the_secret_but_never_shows_it(tenant, settings):
    from django.test import Client

    from helpdesk.tenancy.roles import Role
    from tests.factories import agent_in

    settings.INTEGRATIONS_ALLOW_PRIVATE = False
    client = Client(HTTP_HOST="acme.localhost")
    client.force_login(agent_in(tenant, role=Role.ADMIN, email="admin@acme.test"))
    base = "/admin/people/customerdataintegration/"
    data = {"name": "Shop", "url": "https://8.8.8.8/helpdesk", "secret": "admin-secret-0123456789",
            "timeout_ms": "2000", "cache_seconds": "300", "is_active": "on"}
    refused = client.post(base + "add/", {**data, "url": "http://127.0.0.1/x"})
    assert refused.status_code == 200 and "loopback" in refused.content.decode()
    assert client.post(base + "add/", data).status_code == 302
    with tenant_scope(tenant):
        integration = CustomerDataIntegration.objects.get()
        assert AuditEntry.objects.filter(action="integration.created").count() == 1
    assert integration.secret == "admin-secret-0123456789"
    page = client.get(f"{base}{integration.pk}/change/").content.decode()
    assert "admin-secret-0123456789" not in page and 'name="secret"' in page
    assert client.post(f"{base}{integration.pk}/change/", {**data, "secret": "", "name": "Shop 2"}).status_code == 302
    with tenant_scope(tenant):
        integration.refresh_from_db()
    assert integration.name == "Shop 2" and integration.secret == "admin-secret-0123456789"
