"""Row-level security: the second wall behind the queryset filter.

After every ``migrate`` each table of a ``TenantOwned`` model gets RLS enabled and
forced (so the owning role is subject to it too) and one policy keyed on the
per-transaction settings the database backend sets. Policies are (re)created by
``post_migrate``, so a table added by a later migration is covered without writing SQL.

PostgreSQL superusers bypass RLS whatever the policy says: the application and the
tests connect as an ordinary role (see README, ``scripts/ensure_pg_role``).
"""
from __future__ import annotations

from django.apps import apps
from django.db import connections

from helpdesk.tenancy.models import TenantOwned

POLICY = "tenant_isolation"
_CONDITION = (
    "(current_setting('app.rls_bypass', true) = 'on' "
    "OR tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"
)


def tenant_owned_tables() -> list[str]:
    tables = []
    for model in apps.get_models(include_auto_created=True):
        if issubclass(model, TenantOwned) and not model._meta.proxy and model._meta.managed:
            tables.append(model._meta.db_table)
    return sorted(set(tables))


def apply_policies(using: str = "default") -> list[str]:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return []
    existing = set(connection.introspection.table_names())
    applied = []
    with connection.cursor() as cursor:
        for table in tenant_owned_tables():
            if table not in existing:
                continue
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {quoted}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {quoted} USING {_CONDITION} WITH CHECK {_CONDITION}"
            )
            applied.append(table)
    return applied


def post_migrate_apply(sender, using="default", **kwargs) -> None:
    # post_migrate is sent once per app after every migration has run: apply once.
    if sender.label == "tenancy":
        apply_policies(using)
