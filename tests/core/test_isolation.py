"""The isolation harness: every URL the project registers, tenant B against tenant A.

It walks the URL configuration (API, console, portal, admin, anything added later) and
for each route:

- object routes (with path parameters): tenant A's object of the route's model is put in
  the path and every method the route accepts is called with tenant B's credentials;
  the answer must be 404 (the admin may instead redirect away as for a missing object),
  carry none of A's data, and leave A's object untouched;
- collection routes: a GET with B's credentials must not contain any of A's data.

The route's model is found from the view (``model`` on the guarded API and console
bases, ``model_admin.model`` in the admin). A route with parameters whose model cannot be
found fails the test until it is listed in ``NOT_TENANT_OBJECTS`` with a reason, so new
routes are covered without new tests, and an uncovered one cannot slip through.

A's data is recognised by canary strings written into every text column of every row
created for A (one row per factory in tests/factories.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import factory
import pytest
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.test import APIClient

from helpdesk.crypto import EncryptedTextField
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import TenantOwned
from helpdesk.tenancy.roles import Role
from tests import factories
from tests.factories import agent_in

pytestmark = pytest.mark.django_db

CANARY = "canary-tenant-a"
A_HOST = "acme.localhost"
B_HOST = "globex.localhost"

# Routes with path parameters that are not tenant objects, and why.
NOT_TENANT_OBJECTS: dict[str, str] = {
    "admin:app_list": "an app's index in the admin; lists only the viewer's tenant (collection check applies)",
    "admin:view_on_site": "content-type shortcut: object lookups also pass through RLS; checked below",
    "admin/(?P<url>.*)$": "the admin's catch-all (adds a slash or answers 404)",
    "console:password_reset_confirm": "token link from a reset email; no tenant object in the path",
    "console:password-reset-confirm": "token link from a reset email; no tenant object in the path",
    "portal:signin_link": "token link from a sign-in email, looked up by hash in the host's tenant only "
                          "(tests/channels_hub/test_portal.py)",
    "api:channel-email-inbound": "a channel's public key; only its own secret opens it (tests/channels_hub/test_api.py)",
    "api:channel-connector-messages": "a channel's public key; only its own secret opens it "
                                      "(tests/channels_hub/test_connector.py)",
    "api:channel-connector-attachment": "a channel's public key and a link signed for that channel; "
                                        "tests/channels_hub/test_connector.py",
}
# Path parameters that are no object (a help-center page's language, the number of a page of
# the help center's sitemap): filled with this value; routes whose only parameters are these
# are collections.
PATH_DEFAULTS: dict[str, str] = {"locale": "en", "page": "1"}
# Collection routes not fetched with GET, and why.
SKIP_GET: dict[str, str] = {
    "console:logout": "POST-only sign-out",
    "admin:logout": "signs the viewer out",
    "api-docs": "static page shell",
    "schema": "API description, no tenant data",
}


@dataclass
class Route:
    path: str
    name: str
    callback: object
    pattern: object
    params: list[str] = field(default_factory=list)

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")


def _walk(patterns, prefix="", namespaces=(), patterns_so_far=()):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespaces + ((p.namespace,) if p.namespace else ())
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns, patterns_so_far + (p.pattern,))
        elif isinstance(p, URLPattern):
            name = ":".join(namespaces + (p.name,)) if p.name else ""
            all_patterns = patterns_so_far + (p.pattern,)
            params: list[str] = []
            for pat in all_patterns:
                if isinstance(pat, RoutePattern):
                    params += re.findall(r"<(?:\w+:)?(\w+)>", str(pat))
                elif isinstance(pat, RegexPattern):
                    params += list(pat.regex.groupindex)
            yield Route(prefix + str(p.pattern), name, p.callback, all_patterns, params)


def all_routes() -> list[Route]:
    return [r for r in _walk(get_resolver().url_patterns) if "format" not in r.params]


def route_model(route: Route):
    cb = route.callback
    admin = getattr(cb, "model_admin", None)
    if admin is not None:
        return admin.model
    for holder in (getattr(cb, "cls", None), getattr(cb, "view_class", None), cb):
        model = getattr(holder, "model", None)
        if isinstance(model, type) and issubclass(model, models.Model):
            return model
    return None


def route_methods(route: Route) -> list[str]:
    cb = route.callback
    actions = getattr(cb, "actions", None)
    if actions:
        return [m.upper() for m in actions]
    cls = getattr(cb, "cls", None) or getattr(cb, "view_class", None)
    if cls is not None:
        return [m.upper() for m in cls.http_method_names if m not in ("options", "head") and hasattr(cls, m)]
    return ["GET", "POST"]


def _fill_regex(text: str, value, overrides: dict | None = None) -> str | None:
    """Replace each named group of a (router-style) regex with ``value`` (or its override)."""
    overrides = overrides or {}
    out, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):
            name = text[i + 4:text.index(">", i)]
            depth, j = 0, i
            while j < len(text):
                if text[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            out.append(str(overrides.get(name, value)))
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    filled = "".join(out).lstrip("^").rstrip("$")
    if any(c in filled for c in "()[]*+?|"):
        return None  # an unnamed group or a pattern we cannot write out
    return filled.replace("\\", "")


def concrete_path(route: Route, value, overrides: dict | None = None) -> str | None:
    """Fill every path parameter with ``value`` (``overrides`` by parameter name); None for
    routes we cannot write out."""
    overrides = overrides or {}
    path = "/"
    for pat in route.pattern:
        text = str(pat)
        if isinstance(pat, RegexPattern):
            text = _fill_regex(text, value, overrides)
            if text is None:
                return None
        else:
            text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(overrides.get(m.group(1), value)), text)
        path += text
    return path


def lookup_overrides(route: Route, obj) -> dict:
    """Views that find their object by another field (a ticket's per-tenant number, an
    attachment's token) get that field's value in that parameter."""
    cb = route.callback
    view = getattr(cb, "cls", None) or getattr(cb, "view_class", None)
    if view is None:
        return {}
    pairs = [(getattr(view, "slug_url_kwarg", None), getattr(view, "slug_field", None)),
             (getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None),
              getattr(view, "lookup_field", None))]
    return {kwarg: getattr(obj, field) for kwarg, field in pairs
            if kwarg and field and kwarg in route.params and field != "pk" and hasattr(obj, field)}


def _factory_modules():
    """tests/factories.py and every tests/<app>/factories.py."""
    import importlib
    import pkgutil

    import tests

    modules = [factories]
    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                modules.append(importlib.import_module(f"tests.{info.name}.factories"))
            except ModuleNotFoundError:
                continue
    return modules


def _factories():
    found = {}
    for obj in (o for module in _factory_modules() for o in vars(module).values()):
        if (isinstance(obj, type) and issubclass(obj, factory.django.DjangoModelFactory)
                and not obj._meta.abstract and obj._meta.model is not None):
            found.setdefault(obj._meta.model, obj)
    return found


def _canary_fields(model) -> list[models.Field]:
    fields = []
    for f in model._meta.concrete_fields:
        if isinstance(f, (models.EmailField, models.URLField, models.SlugField, models.GenericIPAddressField,
                          EncryptedTextField)):
            continue
        if isinstance(f, (models.CharField, models.TextField)) and not f.choices and not f.unique:
            if isinstance(f, models.CharField) and (f.max_length or 0) < 40:
                continue
            if f.name in ("key_hash", "prefix", "value", "subject_id", "object_id"):
                continue
            fields.append(f)
    return fields


def test_every_tenant_owned_model_has_a_factory():
    from django.apps import apps

    missing = [m._meta.label for m in apps.get_models()
               if issubclass(m, TenantOwned) and m not in _factories()]
    assert not missing, f"add factories to tests/factories.py (the isolation harness needs them): {missing}"


@pytest.fixture
def tenant_a_objects(tenant):
    """One row of every tenant-owned model for tenant A, text columns marked with the canary,
    plus A itself and one of A's people (platform rows a tenant admin of B must not reach)."""
    from helpdesk.tenancy.models import Tenant

    made = {}
    Tenant.objects.filter(pk=tenant.pk).update(name=f"{CANARY}-tenant", brand_name=f"{CANARY}-brand")
    made[Tenant] = tenant
    person = agent_in(tenant, role=Role.AGENT, email="person@acme.test")
    type(person).objects.filter(pk=person.pk).update(full_name=f"{CANARY}-person")
    made[type(person)] = person
    for model, factory_class in _factories().items():
        if not issubclass(model, TenantOwned):
            continue
        obj = factory_class(tenant=tenant)
        updates = {f.name: f"{CANARY}-{model._meta.model_name}-{obj.pk}" for f in _canary_fields(model)}
        if updates:
            with tenant_scope(tenant):
                model.unscoped.filter(pk=obj.pk).update(**updates)
        made[model] = obj
    return made


@pytest.fixture
def b_api(other_api_key) -> APIClient:
    client = APIClient(HTTP_HOST="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_api_key}")
    return client


@pytest.fixture
def b_console(other_tenant) -> Client:
    owner = agent_in(other_tenant, role=Role.OWNER, email="owner@globex.test")
    client = Client(HTTP_HOST=B_HOST)
    client.force_login(owner)
    return client


def _assert_no_leak(response, where: str) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert CANARY.encode() not in body, f"{where}: tenant A's data in tenant B's response"
    assert response.status_code < 500, f"{where}: {response.status_code}"


def _call(client, method: str, path: str, is_api: bool):
    if method == "GET":
        return client.get(path)
    if is_api:
        return getattr(client, method.lower())(path, data={}, format="json")
    return getattr(client, method.lower())(path, data={})


def test_every_object_route_is_a_404_for_another_tenant(tenant_a_objects, b_api, b_console):
    uncovered = []
    checked = 0
    for route in all_routes():
        if (not route.params or set(route.params) <= set(PATH_DEFAULTS)
                or (route.name or route.path) in NOT_TENANT_OBJECTS):
            continue
        model = route_model(route)
        if model is None:
            uncovered.append(f"{route.name or route.path}")
            continue
        if not issubclass(model, TenantOwned) and model not in tenant_a_objects:
            continue  # platform rows of no tenant (permission groups): superusers only
        obj = tenant_a_objects.get(model)
        if obj is None:
            uncovered.append(f"{route.name or route.path}: no factory for {model._meta.label}")
            continue
        path = concrete_path(route, obj.pk, {**PATH_DEFAULTS, **lookup_overrides(route, obj)})
        if path is None:
            uncovered.append(f"{route.name or route.path}: cannot build a path")
            continue
        client = b_api if route.is_api else b_console
        for method in route_methods(route):
            response = _call(client, method, path, route.is_api)
            where = f"{method} {path} ({route.name})"
            _assert_no_leak(response, where)
            if (route.path.startswith("admin/") and response.status_code == 302
                    and response["Location"].rstrip("/").endswith(f"/{obj.pk}/change")):
                # The admin's short URL redirects to the change page whatever the id: follow it.
                response = client.get(response["Location"])
                _assert_no_leak(response, where + " (followed)")
            if route.path.startswith("admin/") and response.status_code in (302, 403):
                # The admin treats another tenant's row as a missing one (redirect with "doesn't
                # exist"); platform rows are refused to tenant admins outright.
                assert response.status_code == 302 or not issubclass(model, TenantOwned), where
                assert f"/{obj.pk}/" not in response.get("Location", ""), where
            else:
                assert response.status_code == 404, f"{where}: {response.status_code}"
            checked += 1
        with dangerously_unscoped():
            manager = model.unscoped if issubclass(model, TenantOwned) else model._default_manager
            assert manager.filter(pk=obj.pk).exists(), f"{route.name}: B's request removed A's object"
    assert not uncovered, (
        "routes with path parameters whose tenant model the harness cannot find "
        "(use the guarded bases, which declare `model`, or list them in NOT_TENANT_OBJECTS):\n  "
        + "\n  ".join(uncovered)
    )
    assert checked > 0


# The ticket page's fragments that higher apps serve (tickets cannot import them): each must
# be an object route of the ticket, so the test above calls it with another tenant's ticket.
TICKET_FRAGMENTS = ("tickets:messages", "kb:ticket_articles", "channels:ticket_email_panel",
                    "channels:ticket_connector_panel")


def test_the_ticket_pages_fragments_are_checked_as_ticket_routes():
    from tickets.models import Ticket

    routes = {route.name: route for route in all_routes()}
    for name in TICKET_FRAGMENTS:
        route = routes[name]
        assert route_model(route) is Ticket and name not in NOT_TENANT_OBJECTS, name
        assert lookup_overrides(route, Ticket(number=7)) == {"number": 7}, name  # found by the tenant's number


def test_every_collection_route_shows_nothing_of_another_tenant(tenant_a_objects, b_api, b_console):
    fetched = 0
    for route in all_routes():
        key = route.name or route.path
        if (route.params and not set(route.params) <= set(PATH_DEFAULTS)) or key in SKIP_GET:
            continue
        path = concrete_path(route, "x", PATH_DEFAULTS)
        if path is None or "GET" not in route_methods(route):
            continue
        response = (b_api if route.is_api else b_console).get(path)
        _assert_no_leak(response, f"GET {path} ({route.name})")
        fetched += 1
    assert fetched > 0


def test_view_on_site_shortcut_does_not_reach_another_tenants_rows(tenant_a_objects, b_console):
    from django.contrib.contenttypes.models import ContentType

    from helpdesk.people.models import Contact

    contact = tenant_a_objects[Contact]
    content_type = ContentType.objects.get_for_model(Contact)
    response = b_console.get(f"/admin/r/{content_type.pk}/{contact.pk}/")
    _assert_no_leak(response, "view_on_site")
    assert response.status_code == 404


def test_tenant_a_sees_its_own_canaries_so_the_harness_can_see_leaks(tenant, tenant_a_objects, api_key):
    """Guard against a harness that passes because the canary never shows anywhere."""
    owner = agent_in(tenant, role=Role.OWNER, email="owner2@acme.test")
    client = Client(HTTP_HOST=A_HOST)
    client.force_login(owner)
    seen = False
    for route in all_routes():
        if not route.path.startswith("admin/") or not route.name.endswith("_changelist"):
            continue
        response = client.get(concrete_path(route, "x"))
        if CANARY.encode() in response.content:
            seen = True
            break
    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    for route in all_routes():
        if route.is_api and not route.params and "GET" in route_methods(route) and route.name not in SKIP_GET:
            if CANARY.encode() in api.get(concrete_path(route, "x")).content:
                seen = True
    assert seen, "tenant A's own canaries never appear: the leak checks would prove nothing"
