"""``/console/notifications/``: the list and the preferences form."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.tenancy.context import tenant_scope
from tests.tickets.factories import NotificationFactory, TicketFactory
from tests.queries import QueryCounter
from tickets.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db

URL = "/console/notifications/"
HOST = {"HTTP_HOST": "acme.localhost"}


def test_the_page_lists_my_notifications_only(client, tenant, other_tenant, agent, owner):
    ticket = TicketFactory(tenant=tenant)
    NotificationFactory(tenant=tenant, user=agent, ticket=ticket, text="Ticket assigned to you")
    NotificationFactory(tenant=tenant, user=owner, text="The owner's own")
    NotificationFactory(tenant=other_tenant, user=agent, text="From another helpdesk")
    client.force_login(agent)
    response = client.get(URL, **HOST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ticket assigned to you" in html and f"/console/tickets/{ticket.number}/" in html
    assert "The owner&#x27;s own" not in html and "The owner's own" not in html
    assert "From another helpdesk" not in html
    assert 'href="/console/notifications/"' in html  # the nav entry


def test_queries_do_not_grow_with_the_list(client, tenant, agent):
    client.force_login(agent)
    client.get(URL, **HOST)

    def count():
        with QueryCounter(connection) as queries:
            assert client.get(URL, **HOST).status_code == 200
        return len(queries)

    NotificationFactory(tenant=tenant, user=agent, ticket=TicketFactory(tenant=tenant))
    few = count()
    for _ in range(15):
        NotificationFactory(tenant=tenant, user=agent, ticket=TicketFactory(tenant=tenant))
    assert count() == few


def test_saving_preferences_and_marking_read(client, tenant, agent):
    NotificationFactory(tenant=tenant, user=agent)
    client.force_login(agent)
    response = client.post(URL, {"action": "preferences", "in_console_assigned": "on", "by_email_mentioned": "on"},
                           **HOST)
    assert response.status_code == 302
    with tenant_scope(tenant):
        prefs = {p.kind: (p.in_console, p.by_email) for p in NotificationPreference.objects.filter(user=agent)}
    assert prefs["assigned"] == (True, False) and prefs["mentioned"] == (False, True)
    assert prefs["sla_breach"] == (False, False)
    client.post(URL, {"action": "read_all"}, **HOST)
    with tenant_scope(tenant):
        assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_signed_out_people_go_to_the_login(client, tenant):
    response = client.get(URL, **HOST)
    assert response.status_code == 302 and "login" in response["Location"]
