"""OpenAPI 3 at /api/schema/ and the interactive docs at /api/docs/, from local files only."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api.urls")]


def schema(host: str = "127.0.0.1") -> dict:
    response = Client().get("/api/schema/", {"format": "json"}, HTTP_HOST=host)
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.content)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "acme.localhost"])
def test_the_schema_is_served_without_credentials_on_any_host(tenant, host):
    document = schema(host)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/me/" in document["paths"]


def test_the_schema_is_valid_openapi():
    validate_schema(schema())


def test_yaml_is_the_default_format():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def test_bearer_api_keys_are_documented():
    document = schema()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"]["type"] == "http"
    assert schemes["ApiKeyAuth"]["scheme"] == "bearer"
    assert schemes["ConsoleSession"]["in"] == "cookie"
    assert {"ApiKeyAuth": []} in document["paths"]["/api/v1/me/"]["get"]["security"]


def test_the_error_body_is_documented_on_every_operation():
    document = schema()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["required"]) == {"code", "message", "fields"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "429"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (path, method, status)
    assert "Retry-After" in document["paths"]["/api/v1/me/"]["get"]["responses"]["429"]["headers"]


def test_posts_document_the_idempotency_key():
    document = schema()
    posts = [(path, ops["post"]) for path, ops in document["paths"].items() if "post" in ops]
    assert any(path == "/api/v1/_probe/" for path, _op in posts)
    for path, operation in posts:
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert any(p["name"] == "Idempotency-Key" and p["schema"]["maxLength"] == 255 for p in headers), path
        assert {"409", "422"} <= set(operation["responses"]), path
        created = [r for status, r in operation["responses"].items() if status.startswith("2")]
        assert all("Idempotent-Replayed" in r["headers"] for r in created), path
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method != "post":
                assert not any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))


def test_the_management_command_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), "--urlconf", "helpdesk.urls")
    assert out.read_text().startswith("openapi: 3.")


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_docs_page_uses_local_assets_only(host):
    client = Client()
    response = client.get("/api/docs/", HTTP_HOST=host)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SwaggerUIBundle" in html
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "an external URL in the docs page"
    assert '"validatorUrl": null' in html  # no calls to the online validator
    parser = _Assets()
    parser.feed(html)
    assert len(parser.urls) >= 3  # css, bundle, preset (and the favicon)
    for url in parser.urls:
        assert url.startswith("/static/"), url
        asset = client.get(url, HTTP_HOST=host)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
    assert '"/api/schema/"' in html
