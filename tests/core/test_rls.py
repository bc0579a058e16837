"""Row-level security: the database refuses rows of other tenants even without a filter."""
import pytest
from django.db import connection, transaction

from helpdesk.people.models import Contact
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.rls import tenant_owned_tables
from tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(connection.vendor != "postgresql",
                                                        reason="RLS is PostgreSQL's")]


def test_the_tests_do_not_run_as_a_superuser():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_every_tenant_owned_table_has_forced_rls_and_a_policy():
    tables = tenant_owned_tables()
    assert "people_contact" in tables and "tenancy_membership" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relrowsecurity AND c.relforcerowsecurity "
            "AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert set(tables) <= protected


# Tables that carry tenant_id without row-level security, on purpose and each explained
# where the model is defined: custom domains are routing data, read before the tenant is
# known; the search documents and terms are derived data whose full-text and trigram
# operators PostgreSQL would never run before a policy (so their GIN indexes would go
# unused): every statement on them names tenant_id and takes only ids, and the content a
# search returns is read from the tables under RLS.
RLS_EXEMPT = {"tenancy_tenantdomain", "knowledge_searchdocument", "knowledge_searchterm"}


def test_every_table_with_a_tenant_column_is_protected_or_a_named_exception():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
            "AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
        )
        unprotected = {row[0] for row in cursor.fetchall()}
    assert unprotected == RLS_EXEMPT


def test_a_query_without_the_tenant_setting_returns_no_rows(tenant):
    ContactFactory(tenant=tenant, name="Ada")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.tenant_id', '', true), set_config('app.rls_bypass', 'off', true)")
        cursor.execute("SELECT count(*) FROM people_contact")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"SELECT set_config('app.tenant_id', '{tenant.pk}', true)")
        cursor.execute("SELECT count(*) FROM people_contact")
        assert cursor.fetchone()[0] == 1


def test_unfiltered_orm_query_sees_only_the_tenant_in_context(tenant, other_tenant):
    ContactFactory(tenant=tenant, name="Ada")
    ContactFactory(tenant=other_tenant, name="Grace")
    with tenant_scope(other_tenant):
        # Bypass the app-level filter: the database still hides the other tenant's row.
        names = list(Contact.unscoped.values_list("name", flat=True))
    assert names == ["Grace"]
    with tenant_scope(None):
        assert list(Contact.unscoped.all()) == []
    with dangerously_unscoped():
        assert Contact.unscoped.count() == 2


def test_inserting_a_row_for_another_tenant_is_refused_by_the_database(tenant, other_tenant):
    from django.db import DatabaseError

    with tenant_scope(other_tenant):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO people_contact (tenant_id, name, locale, timezone, notes, created_at, updated_at) "
                    "VALUES (%s, 'x', '', '', '', now(), now())",
                    [tenant.pk],
                )


def test_tenant_setting_is_per_transaction_not_per_session(tenant):
    ContactFactory(tenant=tenant)
    with tenant_scope(tenant):
        assert Contact.unscoped.count() == 1
    # Outside any tenant the next transaction on the same connection sees nothing.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert cursor.fetchone()[0] in ("", None)
        cursor.execute("SELECT count(*) FROM people_contact")
        assert cursor.fetchone()[0] == 0
