"""The per-process copy of a tenant's active SLA policies: used between changes, never
after one (in this process at once, in every process after commit)."""
from __future__ import annotations

import pytest
from django.db import connection

from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.services import tenant_create
from tests.queries import QueryCounter
from tickets.models import SlaPolicy, SlaTimer, Ticket, Via
from tickets.services.tickets import contact_for_email, ticket_create
from tickets.sla import policy_cache
from tickets.sla.policies import sla_policy_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme():
    return tenant_create(slug="cachecorp", name="Cache Corp", owner_email="owner@cache.test",
                         owner_password="cache-password-1")


def _new_ticket(tenant, n: int) -> Ticket:
    with tenant_scope(tenant):
        requester = contact_for_email(tenant=tenant, email=f"c{n}@example.org")
        return ticket_create(tenant=tenant, actor=None, via=Via.CUSTOMER, subject=f"Case {n}", description="x",
                             requester=requester, priority="normal")


def _first_reply_minutes(tenant, ticket) -> int:
    with tenant_scope(tenant):
        return SlaTimer.objects.get(ticket=ticket, metric="first_reply").target_minutes


def test_the_policies_are_loaded_once_between_changes(acme):
    _new_ticket(acme, 1)
    with tenant_scope(acme), QueryCounter(connection) as counter:
        policy_cache.cached_active_policies(tenant_id=acme.pk)
    assert not [q for q in counter.captured_queries if "tickets_slapolicy" in q["sql"]]


def test_a_committed_target_change_applies_to_the_next_ticket(acme):
    first = _new_ticket(acme, 1)
    with tenant_scope(acme):
        policy = SlaPolicy.objects.get()
        targets = [{"metric": t.metric, "priority": t.priority,
                    "minutes": 7 if (t.metric, t.priority) == ("first_reply", "normal") else t.minutes}
                   for t in policy.targets.all()]
    assert _first_reply_minutes(acme, first) != 7
    sla_policy_update(policy=policy, actor=None, targets=targets)
    assert _first_reply_minutes(acme, _new_ticket(acme, 2)) == 7


def test_a_process_sees_its_own_change_before_commit(acme):
    from django.db import transaction

    _new_ticket(acme, 1)
    with transaction.atomic():
        with tenant_scope(acme):
            SlaPolicy.objects.update(is_active=False)  # an update() sends no signal…
            policy_cache.sla_policies_changed(acme.pk)  # …so the writer says so
            ticket = _new_ticket(acme, 2)
            assert Ticket.objects.get(pk=ticket.pk).sla_policy_id is None
        transaction.set_rollback(True)
    with tenant_scope(acme):
        assert Ticket.objects.filter(subject="Case 2").count() == 0


def test_without_a_shared_version_the_copy_is_not_trusted(acme):
    from django.core.cache import cache

    _new_ticket(acme, 1)
    with tenant_scope(acme):
        SlaPolicy.objects.update(name="Renamed behind the cache's back")
    cache.delete(policy_cache._key(acme.pk))  # a flush or a restart of the shared cache
    with tenant_scope(acme):
        names = [p.name for p in policy_cache.cached_active_policies(tenant_id=acme.pk)]
    assert names == ["Renamed behind the cache's back"]
