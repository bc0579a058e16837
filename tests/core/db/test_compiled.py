"""helpdesk.db.compiled: a queryset compiled once gives what the queryset gives, for any values."""
from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from helpdesk.db.compiled import CompiledQuery
from helpdesk.people.models import Contact, ContactIdentity, Organization
from helpdesk.tenancy.context import tenant_scope
from tests.factories import ContactFactory, ContactIdentityFactory, OrganizationFactory
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db


def _identity_query(tenant_id, value):
    return (ContactIdentity.unscoped.filter(tenant_id=tenant_id, value=value)
            .select_related("contact", "contact__organization")
            .annotate(has_org=Exists(Organization.unscoped.filter(tenant_id=OuterRef("tenant_id"))))[:1])


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_rows_come_back_as_the_queryset_gives_them_with_related_objects_and_annotations(tenant, other_tenant):
    built = []

    def build(tenant_id, value):
        built.append((tenant_id, value))
        return _identity_query(tenant_id, value)

    query = CompiledQuery(build, tenant_id=int, value=str)
    with tenant_scope(tenant):
        org = OrganizationFactory(tenant=tenant)
        with_org = ContactIdentityFactory(tenant=tenant, value="a@example.com",
                                          contact=ContactFactory(tenant=tenant, organization=org,
                                                                 attributes={"plan": "gold"}))
        ContactIdentity.objects.filter(pk=with_org.pk).update(undeliverable_at=timezone.now())
        without = ContactIdentityFactory(tenant=tenant, value="b@example.com")
        for value in ("a@example.com", "b@example.com", "nobody@example.com"):
            expected = list(_identity_query(tenant.pk, value))
            got = query.fetch(tenant_id=tenant.pk, value=value)
            assert [_fields(o) for o in got] == [_fields(o) for o in expected]
            for mine, theirs in zip(got, expected):
                assert _fields(mine.contact) == _fields(theirs.contact)
                assert mine.has_org is theirs.has_org is True
                assert mine._state.adding is False and mine._state.db == "default"
        first = query.fetch(tenant_id=tenant.pk, value="a@example.com")[0]
        assert first.contact.organization == org and first.contact.attributes == {"plan": "gold"}
        assert first.undeliverable_at is not None and first.undeliverable_at.tzinfo is not None
        assert query.fetch(tenant_id=tenant.pk, value="b@example.com")[0].contact.organization is None
        assert without.pk == query.fetch(tenant_id=tenant.pk, value="b@example.com")[0].pk
    with tenant_scope(other_tenant):
        theirs = ContactIdentityFactory(tenant=other_tenant, value="a@example.com")
        assert [o.pk for o in query.fetch(tenant_id=other_tenant.pk, value="a@example.com")] == [theirs.pk]
    assert len(built) == 1  # built and compiled once, run with every value since


def test_one_statement_a_fetch(in_tenant):
    query = CompiledQuery(_identity_query, tenant_id=int, value=str)
    ContactIdentityFactory(tenant=in_tenant, value="a@example.com")
    query.fetch(tenant_id=in_tenant.pk, value="a@example.com")
    with assert_num_queries(1):
        assert len(query.fetch(tenant_id=in_tenant.pk, value="a@example.com")) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security is PostgreSQL's")
def test_another_tenants_rows_stay_hidden_by_row_level_security(tenant, other_tenant):
    """The SQL takes the tenant as a value, and runs like any statement: in tenant A's scope,
    asking for tenant B's rows finds nothing."""
    query = CompiledQuery(_identity_query, tenant_id=int, value=str)
    with tenant_scope(other_tenant):
        ContactIdentityFactory(tenant=other_tenant, value="a@example.com")
    with tenant_scope(tenant):
        assert query.fetch(tenant_id=other_tenant.pk, value="a@example.com") == []


def test_a_value_a_lookup_rewrites_is_refused_when_compiled(in_tenant):
    query = CompiledQuery(lambda value: Contact.unscoped.filter(name__icontains=value), value=str)
    with pytest.raises(ImproperlyConfigured, match="value"):
        query.fetch(value="ann")


def test_parameters_are_named_and_typed(in_tenant):
    with pytest.raises(TypeError):
        CompiledQuery(lambda when: Contact.unscoped.filter(created_at=when), when=object)
    query = CompiledQuery(lambda pk: Contact.unscoped.filter(pk=pk), pk=int)
    with pytest.raises(TypeError):
        query.fetch(id=1)
    with pytest.raises(TypeError):  # ``pk=None`` is IS NULL to a queryset, another statement
        query.fetch(pk=None)


def test_locking_reads_need_a_transaction(in_tenant):
    query = CompiledQuery(lambda pk: Contact.unscoped.select_for_update().filter(pk=pk), pk=int)
    contact = ContactFactory(tenant=in_tenant)
    with transaction.atomic():
        assert [c.pk for c in query.fetch(pk=contact.pk)] == [contact.pk]


@pytest.mark.django_db(transaction=True)
def test_locking_reads_outside_a_transaction_are_refused(tenant):
    query = CompiledQuery(lambda pk: Contact.unscoped.select_for_update().filter(pk=pk), pk=int)
    with tenant_scope(tenant):
        with transaction.atomic():
            query.fetch(pk=1)  # compiled inside one
        with pytest.raises(TransactionManagementError):
            query.fetch(pk=1)
