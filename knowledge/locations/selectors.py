"""Reads of service locations: lists, text search, nearest first, and the open-now state.

Nearest first on PostgreSQL is one KNN scan of the GiST index ``location_tenant_geo``
(``ORDER BY cube(array[geo_x, geo_y, geo_z]) <-> cube(array[...]) LIMIT n``): the cost
grows with ``n``, not with the tenant's locations. The kilometres shown are the haversine
distance computed afterwards for the rows found. Embedded mode (SQLite has no GiST)
prefilters growing bounding boxes on the ``(tenant, latitude, longitude)`` index and sorts
the candidates by haversine distance in Python: the same answer, slower at scale.

Every list reads the rows, their upcoming hours exceptions and (for a locale other than the
default) their translations: three queries whatever the number of rows.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, FloatField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from helpdesk.tenancy.models import Tenant
from knowledge.locales import fallback_chain, pick_translation
from knowledge.locations import hours as hours_lib
from knowledge.locations.geo import Point, bounding_box, fold, haversine_km, unit_vector
from knowledge.models import Location, LocationException, LocationTranslation

MAX_NEAREST = 100
DEFAULT_NEAREST = 20
# ``open_now`` is decided in Python from the hours: it looks at this many candidates at most.
OPEN_NOW_CANDIDATES = 500
MAX_QUERY_TOKENS = 8
# Embedded mode's growing search radius (km); the last one covers the earth.
_EMBEDDED_RADII = (10, 50, 250, 1000, 5000, 20100)


@dataclass(frozen=True)
class LocationText:
    """A location's texts in the visitor's language (falling back to the default language)."""

    name: str
    description: str
    services: list[str]
    directions_note: str
    locale: str


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# --- querysets ------------------------------------------------------------------------------


def with_details(queryset: QuerySet, *, locale: str | None = None, tenant: Tenant | None = None,
                 today: dt.date | None = None) -> QuerySet:
    """Prefetch what a list shows: exceptions from yesterday on (for open now), and the
    translations along the locale's fallback chain (none for the default language)."""
    today = today or timezone.now().date()
    queryset = queryset.prefetch_related(Prefetch(
        "exceptions", queryset=LocationException.objects.filter(date__gte=today - dt.timedelta(days=1))
        .order_by("date"), to_attr="upcoming_exceptions"))
    if locale and tenant is not None and locale != tenant.default_locale:
        chain = [c for c in fallback_chain(tenant, locale) if c != tenant.default_locale]
        queryset = queryset.prefetch_related(Prefetch(
            "translations", queryset=LocationTranslation.objects.filter(locale__in=chain),
            to_attr="chosen_translations"))
    return queryset.select_related("team", "calendar")


def location_queryset(*, tenant: Tenant, active_only: bool = True) -> QuerySet:
    queryset = Location.objects.filter(tenant=tenant)
    return queryset.filter(is_active=True) if active_only else queryset


def has_public_locations(*, tenant: Tenant) -> bool:
    """Whether the help center lists any location (one EXISTS on the tenant's index): its
    navigation links to ``/hc/locations/`` only then."""
    return location_queryset(tenant=tenant).exists()


def filter_text(queryset: QuerySet, q: str) -> QuerySet:
    """Every word of ``q`` (folded: case, dotted/dotless i, accents) appears in the location's
    name, city, postcode, address or services, in any of its languages."""
    for token in fold(q).split()[:MAX_QUERY_TOKENS]:
        queryset = queryset.filter(search_text__contains=token)
    return queryset


def location_list(*, tenant: Tenant, q: str = "", kind: str | None = None, active_only: bool = True,
                  queryset: QuerySet | None = None) -> QuerySet:
    """Locations by name (``name, id`` order: cursor pagination's key)."""
    queryset = queryset if queryset is not None else location_queryset(tenant=tenant, active_only=active_only)
    if q:
        queryset = filter_text(queryset, q)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("name", "id")


def location_nearest(*, tenant: Tenant, point: Point, q: str = "", kind: str | None = None,
                     limit: int = DEFAULT_NEAREST, max_km: float | None = None, active_only: bool = True,
                     locale: str | None = None, prepare: Callable[[QuerySet], QuerySet] | None = None) -> list[Location]:
    """Up to ``limit`` locations nearest to ``point``, nearest first, each with ``distance_km``.

    ``prepare`` adds what the caller shows to the rows' queryset (default: ``with_details``
    in ``locale``). On PostgreSQL the tenant is selected by ``_tenant_key`` alone (see there),
    row-level security standing behind it as everywhere.
    """
    limit = max(1, min(int(limit), OPEN_NOW_CANDIDATES))
    prepare = prepare or (lambda queryset: with_details(queryset, locale=locale, tenant=tenant))
    if is_postgresql():
        base = Location.unscoped.filter(_tenant_key(tenant))
        if active_only:
            base = base.filter(is_active=True)
        base = location_list(tenant=tenant, q=q, kind=kind, queryset=base).order_by()
        rows = list(prepare(base).annotate(chord=RawSQL(*_chord_sql(point), output_field=FloatField()))
                    .order_by("chord")[:limit])  # the KNN order alone: a tie-breaker would need a sort
        rows.sort(key=lambda row: (row.chord, row.pk))  # ties (the same point) in a stable order
    else:
        base = location_list(tenant=tenant, q=q, kind=kind,
                             queryset=location_queryset(tenant=tenant, active_only=active_only)).order_by()
        rows = _nearest_embedded(base=base, point=point, limit=limit, prepare=prepare)
    out = []
    for location in rows:
        location.distance_km = haversine_km(point.lat, point.lng, location.latitude, location.longitude)
        if max_km is not None and location.distance_km > max_km:
            break  # nearest first: the rest are further
        out.append(location)
    return out


def location_nearest_open(*, limit: int = DEFAULT_NEAREST, at: dt.datetime | None = None,
                          **kwargs) -> list[Location]:
    """The ``limit`` nearest locations open at ``at``: first among three times as many nearest,
    then (when too few of those are open: at night, on a holiday) among the
    ``OPEN_NOW_CANDIDATES`` nearest. At most two reads, each a KNN scan."""
    at = at or timezone.now()
    found: list[Location] = []
    for candidates in (min(limit * 3, OPEN_NOW_CANDIDATES), OPEN_NOW_CANDIDATES):
        rows = location_nearest(limit=candidates, **kwargs)
        found = only_open(rows, at)
        if len(found) >= limit or len(rows) < candidates:
            break
    return found[:limit]


def _tenant_key(tenant: Tenant) -> RawSQL:
    """``tenant_id = <id>::bigint``, an index condition of the GiST index. The ORM's tenant
    filter compares with an integer literal (``tenant_id = 1``), which btree_gist's bigint
    operator class cannot use (it has no cross-type operators); with both present the
    planner keeps the ORM's, and the KNN scan would then walk every tenant's rows in
    distance order and filter them one by one. So the nearest-first query reads through
    ``Location.unscoped`` with this condition only (measured: tests and bench/kb_locations.py)."""
    table = connection.ops.quote_name(Location._meta.db_table)
    return RawSQL(f"{table}.{connection.ops.quote_name('tenant_id')} = %s::bigint", (tenant.pk,),
                  output_field=BooleanField())


def _chord_sql(point: Point) -> tuple[str, list[float]]:
    table = connection.ops.quote_name(Location._meta.db_table)
    columns = ", ".join(f"{table}.{connection.ops.quote_name(c)}" for c in ("geo_x", "geo_y", "geo_z"))
    return (f"cube(array[{columns}]) <-> cube(array[%s, %s, %s]::float8[])",
            list(unit_vector(point.lat, point.lng)))


def _nearest_embedded(*, base: QuerySet, point: Point, limit: int, prepare) -> list[Location]:
    for radius in _EMBEDDED_RADII:
        min_lat, max_lat, min_lng, max_lng = bounding_box(point.lat, point.lng, radius)
        boxed = base.filter(latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lng,
                            longitude__lte=max_lng)
        candidates = list(prepare(boxed))
        scored = sorted(((haversine_km(point.lat, point.lng, c.latitude, c.longitude), c.pk, c) for c in candidates),
                        key=lambda item: (item[0], item[1]))
        inside = [c for d, _pk, c in scored if d <= radius]
        if len(inside) >= limit or radius == _EMBEDDED_RADII[-1]:
            return [c for _d, _pk, c in scored][:limit]
    return []


def explain_nearest(*, tenant: Tenant, point: Point, limit: int = DEFAULT_NEAREST) -> str:
    """The PostgreSQL plan of the nearest-first query (for tests and the benchmark)."""
    sql, params = _chord_sql(point)
    queryset = (Location.unscoped.filter(_tenant_key(tenant), is_active=True).annotate(chord=RawSQL(sql, params))
                .order_by("chord").values("id")[:limit])
    return queryset.explain()


def location_by_slug(*, tenant: Tenant, slug: str, locale: str | None = None,
                     active_only: bool = True) -> Location | None:
    queryset = location_queryset(tenant=tenant, active_only=active_only).filter(slug=slug)
    return with_details(queryset, locale=locale, tenant=tenant).prefetch_related(
        Prefetch("translations", to_attr="all_translations")).first()


# --- per row (reads what ``with_details`` prefetched; no queries) ------------------------------


def zone_name(location: Location) -> str:
    """The location's time zone; UTC for a value written around the services' checks (the
    admin's raw field, a bulk update) rather than a page that fails."""
    try:
        zoneinfo.ZoneInfo(location.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return "UTC"
    return location.timezone


def opening_hours_of(location: Location,
                     exceptions: Iterable[LocationException] | None = None) -> hours_lib.OpeningHours:
    rows = exceptions if exceptions is not None else getattr(location, "upcoming_exceptions", None)
    if rows is None:
        rows = location.exceptions.all()
    return hours_lib.OpeningHours(
        timezone=zone_name(location),
        weekly=hours_lib.weekly_from_json(location.opening_hours or {}),
        exceptions={e.date: (() if e.closed else hours_lib.intervals_from_json(e.hours)) for e in rows},
    )


def open_state_of(location: Location, at: dt.datetime | None = None) -> hours_lib.OpenState:
    return hours_lib.open_state(opening_hours_of(location), at or timezone.now())


def text_of(location: Location, *, tenant: Tenant, locale: str) -> LocationText:
    """The location's texts in ``locale``, field by field falling back to the default language."""
    chosen = getattr(location, "chosen_translations", None)
    if chosen is None:
        chosen = getattr(location, "all_translations", None) or []
    chain = [c for c in fallback_chain(tenant, locale) if c != tenant.default_locale]
    translation = pick_translation(chosen, chain) if chain else None
    if translation is None:
        return LocationText(name=location.name, description=location.description, services=list(location.services),
                            directions_note=location.directions_note, locale=tenant.default_locale)
    return LocationText(name=translation.name or location.name,
                        description=translation.description or location.description,
                        services=list(translation.services or location.services),
                        directions_note=translation.directions_note or location.directions_note,
                        locale=translation.locale)


def only_open(locations: Sequence[Location], at: dt.datetime | None = None) -> list[Location]:
    at = at or timezone.now()
    return [loc for loc in locations if hours_lib.is_open(opening_hours_of(loc), at)]


def centroid(points: Iterable[tuple[float, float]]) -> Point | None:
    """The mean position of points on the sphere (right across the antimeridian too)."""
    import math

    xs = ys = zs = 0.0
    count = 0
    for lat, lng in points:
        x, y, z = unit_vector(lat, lng)
        xs, ys, zs, count = xs + x, ys + y, zs + z, count + 1
    if not count:
        return None
    norm = math.sqrt(xs * xs + ys * ys + zs * zs)
    if norm < 1e-9:
        return None
    return Point(math.degrees(math.asin(max(-1.0, min(1.0, zs / norm)))), math.degrees(math.atan2(ys, xs)))
