"""Reads of people: contact and organization search, with what lists show prefetched.

Search is a case-insensitive substring match (so prefixes match too) on the name and on
identity values (emails, E.164 phone numbers, handles, external ids); a query that looks
like a phone number also matches with its spaces and dashes removed. Lists cost a fixed
number of queries: the rows, their identities (one prefetch), the organization (a join).
"""
from __future__ import annotations

import re

from django.db.models import Prefetch, Q, QuerySet

from helpdesk.people.models import CONTACT_IMPORT_KINDS, Contact, ContactIdentity, ImportJob, Organization
from helpdesk.tenancy.models import Tenant

QUERY_MAX = 200
_PHONEISH = re.compile(r"^\+?[\d\s().\-]{3,}$")


def identities_prefetch() -> Prefetch:
    return Prefetch("identities", queryset=ContactIdentity.objects.order_by("kind", "-is_primary", "id"))


def contact_rows(queryset: QuerySet) -> QuerySet:
    """What a contact row shows: the organization and every identity, in two queries."""
    return queryset.select_related("organization").prefetch_related(identities_prefetch())


def _identity_match(*, tenant: Tenant, q: str) -> QuerySet:
    condition = Q(value__icontains=q.lower())
    if _PHONEISH.match(q):
        digits = re.sub(r"[^\d+]", "", q)
        if len(digits) >= 3:
            condition |= Q(value__contains=digits)
    return ContactIdentity.objects.filter(tenant=tenant).filter(condition).values("contact_id")


def contact_search(*, tenant: Tenant, q: str = "", organization_id: int | None = None,
                   queryset: QuerySet | None = None) -> QuerySet:
    """The tenant's contacts matching ``q`` (name or identity value), rows prefetched."""
    qs = queryset if queryset is not None else Contact.objects.filter(tenant=tenant)
    q = " ".join((q or "").split())[:QUERY_MAX]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(pk__in=_identity_match(tenant=tenant, q=q)))
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return contact_rows(qs)


def contact_detail(*, tenant: Tenant, pk: int) -> Contact:
    return contact_rows(Contact.objects.filter(tenant=tenant)).get(pk=pk)


def organization_search(*, tenant: Tenant, q: str = "", queryset: QuerySet | None = None) -> QuerySet:
    """The tenant's organizations whose name or one of whose domains contains ``q``."""
    qs = queryset if queryset is not None else Organization.objects.filter(tenant=tenant)
    q = " ".join((q or "").split())[:QUERY_MAX]
    if q:
        # ``domains`` is a JSON list: its text form holds every domain, quoted.
        qs = qs.filter(Q(name__icontains=q) | Q(domains__icontains=q.lower().lstrip("@")))
    return qs


def import_jobs(*, tenant: Tenant, kinds: tuple[str, ...] = CONTACT_IMPORT_KINDS) -> QuerySet:
    return (ImportJob.objects.filter(tenant=tenant, kind__in=kinds).select_related("created_by")
            .order_by("-created_at", "-id"))
