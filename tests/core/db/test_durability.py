"""Transactions whose work can be done again commit without waiting for the disk
(``SET LOCAL synchronous_commit = off``), and only those, and only for that transaction."""
from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from helpdesk.db.durability import commit_without_waiting_for_disk
from helpdesk.people.models import Contact
from helpdesk.tenancy.context import tenant_scope
from tests.channels_hub.mail import email_channel, raw_mail

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's setting")]


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_only_the_transaction_that_asks_commits_without_waiting(tenant):
    """Asked before the first statement, the setting travels with the tenant's settings (no
    round trip of its own); asked later it is sent at once; a savepoint rollback keeps it;
    the next transaction waits for the disk again; outside a transaction it is an error."""
    with tenant_scope(tenant):
        with transaction.atomic():
            commit_without_waiting_for_disk()
            assert connection.commit_no_wait
            Contact.objects.count()
            assert synchronous_commit() == "off"
        assert not connection.commit_no_wait
        with transaction.atomic():
            assert synchronous_commit() == "on"
            commit_without_waiting_for_disk()
            assert synchronous_commit() == "off"
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                Contact.objects.count()
                raise ZeroDivisionError
            assert synchronous_commit() == "off"
        with transaction.atomic():
            assert synchronous_commit() == "on"
    with pytest.raises(TransactionManagementError):
        commit_without_waiting_for_disk()


def test_processing_an_inbound_mail_does_not_wait_for_the_disk_and_storing_it_does(tenant, monkeypatch):
    from channels_hub.models import InboundSource
    from channels_hub.services import inbound

    seen = {}
    real_process, real_create = inbound._process, inbound.InboundEmail.objects.create

    def process(mail):
        seen["process"] = synchronous_commit()
        return real_process(mail)

    def create(**values):
        row = real_create(**values)
        seen["store"] = synchronous_commit()
        return row

    monkeypatch.setattr(inbound, "_process", process)
    channel = email_channel(tenant)
    with tenant_scope(tenant):
        monkeypatch.setattr(inbound.InboundEmail.objects, "create", create)
        stored = inbound.inbound_store(channel=channel, raw=raw_mail(), source=InboundSource.HOOK)
        assert inbound.inbound_process(inbound_id=stored.pk).reason == "new-ticket"
    assert seen == {"store": "on", "process": "off"}


def test_a_new_server_session_starts_with_nothing_marked_as_sent():
    connection.ensure_connection()
    connection.rls_applied, connection.commit_no_wait = ("1", "off"), True  # as a dead session left them
    connection.close()
    connection.ensure_connection()
    assert connection.rls_applied is None and connection.commit_no_wait is False
