"""On PostgreSQL a statement a connection repeats is prepared (``DB_SERVER_SIDE_BINDING``):
parsed and planned once per connection. Prepared plans still see only the tenant in scope,
and a rolled-back transaction does not break them."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, transaction

from helpdesk.people.models import Contact
from helpdesk.tenancy.context import tenant_scope

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")]

REPEATS = 8  # more than psycopg's threshold of five


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def names_seen(name: str) -> list[str]:
    """The ORM's own statement, through the model's tenant-scoped manager and the row-level
    security of the tenant in scope."""
    return list(Contact.objects.filter(name__startswith=name).values_list("name", flat=True))


def test_the_settings_ask_psycopg_to_prepare():
    """Django turns psycopg's preparing off unless the options name a threshold."""
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == 5


def test_a_repeated_statement_is_prepared_and_still_sees_only_its_tenant(tenant, other_tenant):
    for owner in (tenant, other_tenant):
        with tenant_scope(owner):
            Contact.objects.create(name=f"Prepared {owner.slug}")
    for _round in range(REPEATS):
        for owner in (tenant, other_tenant):
            with tenant_scope(owner), transaction.atomic():
                assert names_seen("Prepared") == [f"Prepared {owner.slug}"]
    assert any('"people_contact"."name"::text LIKE' in sql for sql in prepared_statements())


def test_prepared_statements_survive_a_rolled_back_transaction(tenant):
    with tenant_scope(tenant):
        Contact.objects.create(name="Prepared survivor")
        for _round in range(REPEATS):
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                assert names_seen("Prepared") == ["Prepared survivor"]
                Contact.objects.create(name="Prepared rolled back")
                raise ZeroDivisionError
        with transaction.atomic():
            assert names_seen("Prepared") == ["Prepared survivor"]
