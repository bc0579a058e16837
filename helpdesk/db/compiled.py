"""Querysets compiled to SQL once, for the few reads every inbound message makes.

Building a queryset and compiling it costs the ORM more CPU than the database spends
running it: the inbound mail's own row (locked, with its channel, tenant and three
subqueries) took 1.8 ms to build and compile against 0.2 ms to run, and the sender's
identity 0.45 ms against 0.2 (bench/email_ingest.py processes one of each per mail). A
``CompiledQuery`` builds its queryset once per database connection object, with a marker
value for each parameter, keeps the SQL, and afterwards substitutes the values and turns
the rows into model instances as the queryset would (``select_related`` and annotations
included, through Django's own row converters and related populators).

Rules for a builder: every value that changes between calls is a parameter, typed ``int``
or ``str``, used as an exact value (``field=value``, ``field__in=[value]``), never inside a
transform that rewrites it (``__icontains`` wraps it in ``%…%``: refused when compiled).
Builders of tenant-owned models use ``Model.unscoped`` with ``tenant_id`` as a parameter,
so the SQL holds no tenant of its own; row-level security applies as to any statement.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

_MARKERS = itertools.count(1)


class _Compiled:
    def __init__(self, queryset: QuerySet, markers: dict[str, Any], alias: str):
        connection = connections[alias]
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for value in params:
            name = next((n for n, marker in markers.items() if value == marker), None)
            slots.append((name, value))
        missing = set(markers) - {name for name, _value in slots if name}
        if missing:
            raise ImproperlyConfigured(f"CompiledQuery: parameter(s) {sorted(missing)} not found as values in "
                                       "the SQL (transformed by a lookup?)")
        self.sql = sql
        self.slots = slots
        self.for_update = queryset.query.select_for_update and connection.features.has_select_for_update
        select, klass_info, self.annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        self.col_count = compiler.col_count
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related_populators = get_related_populators(klass_info, select, alias)
        self.converters = compiler.get_converters([column[0] for column in select[:self.col_count]])
        self.compiler = compiler
        self.connection = connection


class CompiledQuery:
    """``build(**markers)`` returns the queryset; ``fetch(**values)`` runs it (a list)."""

    def __init__(self, build: Callable[..., QuerySet], **params: type):
        for name, kind in params.items():
            if kind not in (int, str):
                raise TypeError(f"CompiledQuery parameter {name!r}: int or str, not {kind!r}")
        self._build = build
        self._params = params
        self._key = f"compiled-query-{next(_MARKERS)}"

    def _markers(self) -> dict[str, Any]:
        # Values no caller passes: negative ids (within a 32-bit column's range, or Django
        # would compile the lookup to "no rows"), private-use text.
        serial = next(_MARKERS) % 1000
        return {name: (-2_000_000_000 - serial * 100 - index if kind is int else f"\ue000{serial}.{index}\ue000")
                for index, (name, kind) in enumerate(self._params.items())}

    def _compiled(self, alias: str) -> _Compiled:
        connection = connections[alias]
        cache = connection.__dict__.setdefault("compiled_queries", {})
        compiled = cache.get(self._key)
        if compiled is None:
            markers = self._markers()
            compiled = cache[self._key] = _Compiled(self._build(**markers), markers, alias)
        return compiled

    def fetch(self, *, using: str = "default", **values: Any) -> list:
        if set(values) != set(self._params):
            raise TypeError(f"CompiledQuery.fetch() takes {sorted(self._params)}, got {sorted(values)}")
        missing = [name for name, value in values.items() if value is None]
        if missing:  # the queryset would have said IS NULL: not the compiled statement's shape
            raise TypeError(f"CompiledQuery.fetch(): no value for {missing}")
        compiled = self._compiled(using)
        connection = compiled.connection
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = [self._params[name](values[name]) if name else value for name, value in compiled.slots]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        objects = []
        for row in rows:
            obj = compiled.model.from_db(using, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.related_populators:
                populator.populate(row, obj)
            for attr_name, position in compiled.annotation_col_map.items():
                setattr(obj, attr_name, row[position])
            objects.append(obj)
        return objects
