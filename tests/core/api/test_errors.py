"""Every failure under /api/ has the one error body; malformed input is a 4xx, never a 500."""
from __future__ import annotations

import base64
import json

import pytest
from django.test import Client, override_settings

from helpdesk.people.models import Organization
from helpdesk.tenancy.context import dangerously_unscoped

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.api.urls")]

PROBE = "/api/v1/_probe/"
JSON = "application/json"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["fields"], dict)
    return body["error"]


def raw_client(api_key: str) -> Client:
    # The plain Django client: exactly the bytes and headers given, no encoding help.
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_key}", raise_request_exception=True)


# (label, body bytes, content type, status, code, fields that must be named)
BAD_BODIES = [
    ("truncated JSON", b'{"name": ', JSON, 400, "malformed_request", set()),
    ("trailing garbage", b'{"name": "x"} x', JSON, 400, "malformed_request", set()),
    ("not UTF-8", b'{"name": "\xff\xfe"}', JSON, 400, "malformed_request", set()),
    ("nested too deeply", b"[" * 100_000 + b"]" * 100_000, JSON, 400, "malformed_request", set()),
    ("NaN", b'{"name": "x", "size": NaN}', JSON, 400, "malformed_request", set()),
    ("Infinity", b'{"name": "x", "size": Infinity}', JSON, 400, "malformed_request", set()),
    ("integer too long", b'{"name": "x", "size": ' + b"9" * 5000 + b"}", JSON, 400, "malformed_request", set()),
    ("a list", b'[{"name": "x"}]', JSON, 400, "invalid", {"non_field_errors"}),
    ("null", b"null", JSON, 400, "invalid", {"non_field_errors"}),
    ("a string", b'"name"', JSON, 400, "invalid", {"non_field_errors"}),
    ("a number", b"42", JSON, 400, "invalid", {"non_field_errors"}),
    ("empty object", b"{}", JSON, 400, "invalid", {"name"}),
    ("empty body", b"", JSON, 400, "invalid", {"name"}),
    ("unknown field", b'{"name": "x", "nmae": "y"}', JSON, 400, "invalid", {"nmae"}),
    ("unknown fields and a bad one", b'{"nmae": "y", "colour": 1, "size": -1}', JSON, 400, "invalid",
     {"nmae", "colour", "size", "name"}),
    ("read-only field", b'{"name": "x", "id": 7}', JSON, 400, "invalid", {"id"}),
    ("wrong types", b'{"name": ["x"], "size": "big", "active": "maybe", "tags": "t"}', JSON, 400, "invalid",
     {"name", "size", "active", "tags"}),
    ("object for a string", b'{"name": {"a": 1}}', JSON, 400, "invalid", {"name"}),
    ("bool for an integer", b'{"name": "x", "size": true}', JSON, 400, "invalid", {"size"}),
    ("float for an integer", b'{"name": "x", "size": 1.5}', JSON, 400, "invalid", {"size"}),
    ("too long", json.dumps({"name": "x" * 51}).encode(), JSON, 400, "invalid", {"name"}),
    ("NUL character", b'{"name": "a\\u0000b"}', JSON, 400, "malformed_request", set()),
    ("NUL in a key", b'{"name": "a", "x\\u0000": 1}', JSON, 400, "malformed_request", set()),
    ("lone surrogate", b'{"name": "\\ud800"}', JSON, 400, "malformed_request", set()),
    ("surrogate pair is fine", b'{"name": "\\ud83d\\ude00"}', JSON, 201, None, set()),
    ("list item wrong", b'{"name": "x", "tags": ["ok", {"no": 1}]}', JSON, 400, "invalid", {"tags.1"}),
    ("too many items", b'{"name": "x", "tags": ["1","2","3","4","5","6"]}', JSON, 400, "invalid", {"tags"}),
    ("nested unknown field", b'{"name": "x", "address": {"city": "A", "zip2": "1"}}', JSON, 400, "invalid",
     {"address.zip2"}),
    ("nested wrong type", b'{"name": "x", "address": "Main St"}', JSON, 400, "invalid", {"address"}),
    ("nested missing", b'{"name": "x", "address": {}}', JSON, 400, "invalid", {"address.city"}),
    ("form encoded", b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type", set()),
    ("multipart", b"--b\r\n\r\n", "multipart/form-data; boundary=b", 415, "unsupported_media_type", set()),
    ("plain text", b'{"name": "x"}', "text/plain", 415, "unsupported_media_type", set()),
    ("no content type", b'{"name": "x"}', "", 415, "unsupported_media_type", set()),
    ("unknown charset", b'{"name": "x"}', "application/json; charset=bogus-1", 201, None, set()),
    ("UTF-16 declared, UTF-8 sent", b'{"name": "x"}', "application/json; charset=utf-16", 400,
     "malformed_request", set()),
]


@pytest.mark.parametrize("label,body,content_type,status,code,fields", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_get_a_clear_4xx(api_key, label, body, content_type, status, code, fields):
    response = raw_client(api_key).generic("POST", PROBE, body, content_type=content_type)
    assert response.status_code == status, (label, response.content[:300])
    if status == 201:
        return
    error = assert_error(response, status, code or response.json()["error"]["code"])
    assert fields <= set(error["fields"]), error
    if error["fields"]:
        assert all(isinstance(m, list) and m and all(isinstance(s, str) for s in m) for m in error["fields"].values())


def test_bad_input_changes_nothing(api_key, tenant):
    for _label, body, content_type, status, _code, _fields in BAD_BODIES:
        if status != 201:
            raw_client(api_key).generic("POST", PROBE, body, content_type=content_type)
    with dangerously_unscoped():
        assert not Organization.unscoped.exists()


def test_unknown_fields_are_named_in_the_message_fields(api_client):
    response = api_client.post(PROBE, {"name": "x", "asignee": 3}, format="json")
    error = assert_error(response, 400, "invalid")
    assert error["fields"] == {"asignee": ["Unknown field."]}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_413(api_key):
    body = json.dumps({"name": "x", "tags": ["y" * 10] * 200}).encode()
    assert len(body) > 1000
    response = raw_client(api_key).generic("POST", PROBE, body, content_type=JSON)
    assert_error(response, 413, "request_too_large")
    response = raw_client(api_key).generic("POST", PROBE, body, content_type=JSON, HTTP_IDEMPOTENCY_KEY="big")
    assert_error(response, 413, "request_too_large")


BAD_AUTH = [
    ("no header", None),
    ("bearer without key", "Bearer"),
    ("bearer with two words", "Bearer a b"),
    ("not our key format", "Bearer abc"),
    ("prefix not hex", "Bearer hk_zzzz_secret"),
    ("unknown prefix", "Bearer hk_0123456789ab_secret"),
    ("basic auth", "Basic dXNlcjpwYXNz"),
    ("NUL in key", "Bearer hk_00\x00_x"),
    ("non-ASCII key", "Bearer hk_ab_ş"),
]


@pytest.mark.parametrize("label,header", BAD_AUTH, ids=[b[0] for b in BAD_AUTH])
def test_missing_or_bad_credentials_are_401_with_a_challenge(db, label, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    for method, path in (("GET", "/api/v1/me/"), ("POST", PROBE)):
        response = Client().generic(method, path, b'{"name": "x"}', content_type=JSON, **extra)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_secret_for_a_real_prefix_is_401(api_key):
    prefix = api_key.split("_")[1]
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer hk_{prefix}_wrong")
    assert_error(response, 401, "not_authenticated")


def test_missing_scope_is_403(read_only_key, client_for):
    response = client_for(read_only_key).post(PROBE, {"name": "x"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert_error(client_for(read_only_key).get("/api/v1/me/"), 403, "permission_denied")


def test_unsupported_method_is_405_not_403(api_client):
    for method in ("delete", "put", "patch"):
        response = getattr(api_client, method)("/api/v1/me/")
        error = assert_error(response, 405, "method_not_allowed")
        assert method.upper() in error["message"]
    assert_error(api_client.delete(PROBE), 405, "method_not_allowed")


def test_unsupported_method_without_credentials_is_still_401(db):
    assert_error(Client().delete("/api/v1/me/"), 401, "not_authenticated")


@pytest.mark.parametrize("path", [
    "/api/v1/nope/", "/api/v1/nope", "/api/v2/me/", "/api/", "/api/v1/_probe/1/extra/", "/api/v1/%00/",
])
def test_unknown_api_urls_are_json_404(api_client, path):
    for method in ("get", "post", "delete"):
        response = getattr(api_client, method)(path)
        assert_error(response, 404, "not_found")


def test_missing_trailing_slash_404_suggests_the_right_address(api_client):
    error = assert_error(api_client.get("/api/v1/me"), 404, "not_found")
    assert "/api/v1/me/" in error["message"]
    error = assert_error(api_client.post("/api/v1/me", {}, format="json"), 404, "not_found")
    assert "/api/v1/me/" in error["message"]


def test_a_post_to_the_catch_all_needs_no_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    assert_error(client.post("/api/v1/nothing-here/", {}), 404, "not_found")


def test_missing_objects_are_404(api_client):
    assert_error(api_client.get(f"{PROBE}999999/"), 404, "not_found")
    assert_error(api_client.get(f"{PROBE}abc/"), 404, "not_found")


def test_another_tenants_object_is_404_like_a_missing_one(api_client, other_tenant):
    from tests.factories import OrganizationFactory

    theirs = OrganizationFactory(tenant=other_tenant, name="Secret Co")
    response = api_client.get(f"{PROBE}{theirs.pk}/")
    error = assert_error(response, 404, "not_found")
    assert response.json() == api_client.get(f"{PROBE}999999/").json()
    assert "Secret" not in json.dumps(error)


@pytest.mark.parametrize("cursor", [
    "!!!", "bm90IGEgY3Vyc29y", base64.b64encode(b"p=abc").decode(), base64.b64encode(b"o=-5").decode(), "ş",
    base64.b64encode(b"r=x").decode(),
])
def test_a_bad_cursor_is_400_naming_the_cursor(api_client, cursor):
    response = api_client.get(PROBE, {"cursor": cursor})
    error = assert_error(response, 400, "invalid")
    assert "cursor" in error["fields"]


def test_bad_page_size_is_ignored_not_an_error(api_client):
    assert api_client.get(PROBE, {"page_size": "abc"}).status_code == 200
    assert api_client.get(PROBE, {"page_size": "-1"}).status_code == 200



def test_a_database_constraint_is_409_not_500(api_client, tenant):
    error = assert_error(api_client.post(f"{PROBE}duplicate/", {}, format="json"), 409, "conflict")
    assert "Twin" not in error["message"]
    with dangerously_unscoped():
        assert not Organization.unscoped.exists()
