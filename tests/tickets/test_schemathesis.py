"""schemathesis against /api/schema/: the tickets-core endpoints answer no 5xx to anything
the schema allows (and to what it does not: schemathesis also sends invalid input).

Requests go in-process through the WSGI handler with a real API key of a tenant that holds
data; path ids are drawn from the schema or, half the time, from rows that exist, so the
object routes are exercised beyond their 404s. Examples are few per operation to keep the
run short (``SCHEMATHESIS_EXAMPLES`` raises it).
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings, strategies as st
from rest_framework.test import APIClient

from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory, TeamFactory
from tests.tickets.core_helpers import make_ticket, requester  # noqa: F401
from tests.tickets.factories import ContactReasonFactory, CustomFieldFactory, TagFactory
from tickets.models import CustomFieldKind, LinkKind, SideConversationKind, TicketLink, Via
from tickets.services import message_add, side_conversation_create, ticket_cc_add

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
# tickets-core's operations (the other areas test theirs).
PREFIXES = ("/api/v1/tickets/", "/api/v1/tags/", "/api/v1/custom-fields/", "/api/v1/contact-reasons/",
            "/api/v1/teams/", "/api/v1/agents/", "/api/v1/ticket-settings/", "/api/v1/attachments/")
NOT_OURS = ("/api/v1/tickets/bulk/", "/api/v1/tickets/{id}/apply-macro/")


@pytest.fixture
def keep_connection():
    """Like Django's test client: a finished request must not close the test's connection
    (the test's transaction holds the data)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    document = response.json()
    document["paths"] = {path: ops for path, ops in document["paths"].items()
                         if path.startswith(PREFIXES) and path not in NOT_OURS}
    assert len(document["paths"]) >= 15
    # Input serializers are strict (an unknown key is a 400): say so, so that generated
    # bodies are mostly well-formed and reach the services.
    for name, component in document["components"]["schemas"].items():
        if name.endswith("Request") and component.get("type") == "object":
            component.setdefault("additionalProperties", False)
    return schemathesis.openapi.from_dict(document)


@pytest.fixture
def world(tenant, owner, agent, make_ticket, requester):
    """Rows the drawn ids may point at."""
    team = TeamFactory(tenant=tenant, name="Returns")
    CustomFieldFactory(tenant=tenant, key="order_id", kind=CustomFieldKind.TEXT)
    reason = ContactReasonFactory(tenant=tenant, name="Delivery")
    tag = TagFactory(tenant=tenant, name="vip")
    first = make_ticket(tags=["vip"])
    second = make_ticket(subject="Second")
    message = message_add(ticket=first, actor=agent, via=Via.CONSOLE, body="Looking", public=True)
    side = side_conversation_create(ticket=first, actor=agent, via=Via.CONSOLE, kind=SideConversationKind.INTERNAL,
                                    subject="Warehouse", body="Anyone?")
    cc = ContactFactory(tenant=tenant, name="Boss")
    ticket_cc_add(ticket=first, contact=cc, actor=agent, via=Via.CONSOLE)
    with tenant_scope(tenant):
        link = TicketLink.objects.create(tenant=tenant, source=first, target=second, kind=LinkKind.RELATED)
    return {"id": [first.pk, second.pk, team.pk, reason.pk, tag.pk, agent.pk, owner.pk],
            "link_id": [link.pk], "contact_id": [cc.pk], "user_id": [agent.pk], "side_id": [side.pk],
            "message_id": [message.pk]}


def test_tickets_endpoints_never_answer_5xx(api_schema, api_key, world, settings, keep_connection):
    settings.API_RATE_LIMIT = "100000/min"
    app = WSGIHandler()
    headers = {"Authorization": f"Bearer {api_key}"}
    failures: list[str] = []
    statuses: dict[str, set[int]] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                             phases=[Phase.explicit, Phase.generate],
                             suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), real=st.booleans(), pick=st.integers(min_value=0, max_value=50))
        def run(case, real, pick):
            if real and case.path_parameters:
                for name in list(case.path_parameters):
                    choices = world.get(name)
                    if choices:
                        case.path_parameters[name] = choices[pick % len(choices)]
            response = case.call(app=app, headers=headers)
            statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}\n  {case.as_curl_command()}")

        run()
    assert not failures, "\n".join(failures[:20])
    # The run reached the handlers, not only the validation in front of them.
    succeeded = [op for op, codes in statuses.items() if any(200 <= c < 300 for c in codes)]
    assert len(succeeded) >= len(statuses) // 2, statuses
