"""``/robots.txt``: a tenant's help center open to crawlers, private paths closed, the sitemap
named by its absolute address; nothing indexable when the help center is off or on the
platform's own host."""
from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import TenantDomain
from knowledge.models import HelpCenterSettings

pytestmark = pytest.mark.django_db


def robots(host: str) -> tuple[int, str, str]:
    response = Client(HTTP_HOST=host).get("/robots.txt")
    return response.status_code, response["Content-Type"], response.content.decode()


def rules(text: str) -> list[tuple[str, str]]:
    return [tuple(part.strip() for part in line.split(":", 1)) for line in text.splitlines() if ":" in line]


def test_a_tenant_host_allows_the_help_center_and_names_its_sitemap(tenant, settings):
    settings.PUBLIC_SCHEME = "https"
    status, content_type, text = robots("acme.localhost")
    assert status == 200 and content_type == "text/plain; charset=utf-8"
    found = rules(text)
    assert found[0] == ("User-agent", "*")
    assert ("Allow", "/hc/") in found
    for path in ("/console/", "/api/", "/admin/", "/hc/requests/", "/hc/signin/", "/hc/signout/", "/hc/account/"):
        assert ("Disallow", path) in found, path
    assert ("Disallow", "/") not in found
    assert ("Sitemap", f"https://{tenant.primary_host}/hc/sitemap.xml") in found
    assert ("Sitemap", "https://acme.localhost/hc/sitemap.xml") in found


def test_the_sitemap_is_named_on_the_primary_custom_domain(tenant, settings):
    settings.PUBLIC_SCHEME = "https"
    TenantDomain.objects.create(tenant=tenant, domain="help.acme.test", is_primary=True)
    tenant.refresh_from_db()
    status, _type, text = robots("acme.localhost")
    assert status == 200
    assert ("Sitemap", f"https://{tenant.primary_host}/hc/sitemap.xml") in rules(text)
    assert tenant.primary_host == "help.acme.test"


def test_a_tenant_without_a_help_center_disallows_everything(tenant):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"is_enabled": False})
    status, content_type, text = robots("acme.localhost")
    assert status == 200 and content_type.startswith("text/plain")
    assert rules(text) == [("User-agent", "*"), ("Disallow", "/")]


def test_the_platform_host_disallows_everything(tenant):
    status, _type, text = robots("localhost")
    assert status == 200
    assert rules(text) == [("User-agent", "*"), ("Disallow", "/")]


def test_robots_is_per_tenant(tenant, other_tenant):
    with tenant_scope(tenant):
        HelpCenterSettings.objects.update_or_create(tenant=tenant, defaults={"is_enabled": False})
    _status, _type, text = robots("globex.localhost")
    assert "Sitemap: " in text and "acme" not in text and "globex" in text


def test_only_get(tenant):
    assert Client(HTTP_HOST="acme.localhost").post("/robots.txt").status_code == 405
