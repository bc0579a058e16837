"""Reads of service locations on PostgreSQL: nearest first against distances computed by hand,
the query plan (a KNN scan of the GiST index, not a scan of every location), text search,
typed places, open now, constant query counts."""
from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from django.db import connection
from django.utils import timezone

from helpdesk.tenancy.context import tenant_scope
from knowledge.locations import selectors
from knowledge.locations.geo import Point
from knowledge.locations.geocode import place_lookup
from knowledge.models import Location
from tests.knowledge.factories import LocationExceptionFactory, LocationFactory, LocationTranslationFactory
from tests.queries import assert_num_queries

pytestmark = pytest.mark.django_db

R = 6371.0088


def by_hand(lat1, lng1, lat2, lng2) -> float:
    """Haversine written out again here, independently of the code under test."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


PLACES = {  # name: (lat, lng)
    "kadikoy": (40.9903, 29.0290), "besiktas": (41.0422, 29.0067), "taksim": (41.0369, 28.9850),
    "uskudar": (41.0260, 29.0150), "ankara": (39.9208, 32.8541), "izmir": (38.4192, 27.1287),
    "bursa": (40.1826, 29.0669), "antalya": (36.8841, 30.7056), "edirne": (41.6771, 26.5557),
    "trabzon": (41.0027, 39.7168),
}


@pytest.fixture
def spread(tenant):
    return {name: LocationFactory(tenant=tenant, name=name.title(), slug=name, latitude=lat, longitude=lng)
            for name, (lat, lng) in PLACES.items()}


def test_nearest_first_matches_distances_computed_by_hand(tenant, spread):
    origin = Point(41.0082, 28.9784)  # Sultanahmet
    with tenant_scope(tenant):
        found = selectors.location_nearest(tenant=tenant, point=origin, limit=10)
    expected = sorted(PLACES, key=lambda n: by_hand(origin.lat, origin.lng, *PLACES[n]))
    assert [loc.slug for loc in found] == expected
    for loc in found:
        assert loc.distance_km == pytest.approx(by_hand(origin.lat, origin.lng, loc.latitude, loc.longitude),
                                                rel=1e-9)
    assert found[0].slug == "taksim" and found[0].distance_km == pytest.approx(3.1, abs=0.2)


def test_nearest_random_points_against_brute_force(tenant):
    rng = random.Random(5)
    points = [(rng.uniform(35.8, 42.1), rng.uniform(26.0, 44.8)) for _ in range(200)]
    for index, (lat, lng) in enumerate(points):
        LocationFactory(tenant=tenant, slug=f"p-{index}", latitude=lat, longitude=lng)
    with tenant_scope(tenant):
        for _ in range(10):
            origin = Point(rng.uniform(35.8, 42.1), rng.uniform(26.0, 44.8))
            found = selectors.location_nearest(tenant=tenant, point=origin, limit=15)
            brute = sorted(by_hand(origin.lat, origin.lng, lat, lng) for lat, lng in points)[:15]
            assert [loc.distance_km for loc in found] == pytest.approx(brute, rel=1e-9)


def test_nearest_with_text_kind_radius_and_inactive(tenant, spread):
    LocationFactory(tenant=tenant, name="Closed for good", slug="hidden", latitude=41.0083, longitude=28.9785,
                    is_active=False)
    with tenant_scope(tenant):
        Location.objects.filter(slug="besiktas").update(kind="service_centre")
    origin = Point(41.0082, 28.9784)
    with tenant_scope(tenant):
        assert "hidden" not in [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=origin)]
        assert [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=origin, kind="service_centre")] \
            == ["besiktas"]
        near = selectors.location_nearest(tenant=tenant, point=origin, max_km=10)
        assert {loc.slug for loc in near} == {"taksim", "besiktas", "uskudar", "kadikoy"}


def test_other_tenants_locations_are_never_nearest(tenant, other_tenant):
    LocationFactory(tenant=other_tenant, slug="theirs", latitude=41.0082, longitude=28.9784)
    LocationFactory(tenant=tenant, slug="ours", latitude=39.9, longitude=32.8)
    with tenant_scope(tenant):
        assert [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=Point(41.0082, 28.9784))] \
            == ["ours"]


def _bulk(tenant, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        row = Location(tenant=tenant, name=f"Point {index}", slug=f"point-{index}", latitude=rng.uniform(-60, 70),
                       longitude=rng.uniform(-180, 180), timezone="UTC", search_text=f"point {index}")
        row.locate()
        rows.append(row)
    with tenant_scope(tenant):
        Location.objects.bulk_create(rows, batch_size=1000)


def test_query_plan_uses_the_gist_index(tenant, other_tenant):
    """5,000 locations in two tenants: nearest first is an index scan of location_tenant_geo
    ordered by the KNN distance, with no Sort node and no sequential scan."""
    _bulk(tenant, 3000, seed=1)
    _bulk(other_tenant, 2000, seed=2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_location")
    with tenant_scope(tenant):
        plan = selectors.explain_nearest(tenant=tenant, point=Point(41.0, 29.0), limit=20)
    assert "location_tenant_geo" in plan, plan
    assert "Index Cond: (tenant_id = '%d'::bigint)" % tenant.pk in plan, plan  # other tenants' rows skipped
    assert "Index Scan" in plan or "Index Only Scan" in plan, plan
    assert "Order By" in plan and "<->" in plan, plan
    assert "Seq Scan" not in plan and "Sort" not in plan.replace("Order By", ""), plan


def test_the_index_exists_as_the_migration_made_it():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'location_tenant_geo'")
        (definition,) = cursor.fetchone()
    assert "USING gist (tenant_id, cube(ARRAY[geo_x, geo_y, geo_z]))" in definition


def test_text_search_folds_case_dotted_i_and_accents_in_every_language(tenant):
    location = LocationFactory(tenant=tenant, name="Kadıköy Mağazası", city="İstanbul", services=["Tamir"])
    LocationTranslationFactory(tenant=tenant, location=location, locale="en", name="Kadikoy Store",
                               services=["Repairs"])
    from knowledge.locations.services import search_text_of

    with tenant_scope(tenant):
        Location.objects.filter(pk=location.pk).update(
            search_text=search_text_of(location, location.translations.all()))
    LocationFactory(tenant=tenant, name="Ankara Kızılay", city="Ankara", postcode="06420")
    with tenant_scope(tenant):
        for q in ("KADIKÖY", "kadikoy magaza", "ISTANBUL", "repairs", "tamir", "34710"):
            assert [loc.pk for loc in selectors.location_list(tenant=tenant, q=q)] == [location.pk], q
        assert not selectors.location_list(tenant=tenant, q="kadikoy ankara").exists()


def test_typed_places(tenant):
    LocationFactory(tenant=tenant, slug="a", city="Kadıköy", postcode="34710", latitude=40.99, longitude=29.03)
    LocationFactory(tenant=tenant, slug="b", city="Kadıköy", postcode="34714", latitude=40.97, longitude=29.05)
    LocationFactory(tenant=tenant, slug="c", city="Çankaya", postcode="06690", latitude=39.90, longitude=32.86)
    with tenant_scope(tenant):
        city = place_lookup(tenant=tenant, text="KADIKOY")
        assert city.source == "city" and city.label == "Kadıköy"
        assert city.point.lat == pytest.approx(40.98, abs=0.001) and city.point.lng == pytest.approx(29.04, abs=0.001)
        exact = place_lookup(tenant=tenant, text="06690")
        assert exact.source == "postcode" and exact.point.lat == pytest.approx(39.90)
        prefix = place_lookup(tenant=tenant, text="34 716")  # no such postcode: the 3471x ones
        assert prefix.source == "postcode" and prefix.point.lat == pytest.approx(40.98, abs=0.001)
        table = place_lookup(tenant=tenant, text="eskişehir")
        assert table.source == "table" and table.label == "Eskişehir"
        assert place_lookup(tenant=tenant, text="41.1, 29.2").source == "coordinates"
        assert place_lookup(tenant=tenant, text="Atlantis") is None
        assert place_lookup(tenant=tenant, text="") is None


def test_open_now_uses_the_location_zone_and_exceptions(tenant):
    open_one = LocationFactory(tenant=tenant, slug="always", opening_hours={d: [["00:00", "24:00"]] for d in (
        "mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    holiday = LocationFactory(tenant=tenant, slug="holiday", opening_hours=open_one.opening_hours)
    LocationExceptionFactory(tenant=tenant, location=holiday, date=timezone.now().astimezone(
        dt.timezone(dt.timedelta(hours=3))).date(), closed=True)
    with tenant_scope(tenant):
        rows = list(selectors.with_details(selectors.location_list(tenant=tenant)))
        assert [loc.slug for loc in selectors.only_open(rows)] == ["always"]


def test_list_reads_a_constant_number_of_queries(tenant):
    def run():
        with tenant_scope(tenant):
            with assert_num_queries(3):  # rows (with team and calendar), exceptions, translations
                rows = list(selectors.with_details(selectors.location_list(tenant=tenant), locale="tr", tenant=tenant))
                for row in rows:
                    selectors.open_state_of(row)
                    selectors.text_of(row, tenant=tenant, locale="tr")
    for _ in range(2):
        location = LocationFactory(tenant=tenant)
        LocationTranslationFactory(tenant=tenant, location=location)
        LocationExceptionFactory(tenant=tenant, location=location)
    run()
    for _ in range(8):
        LocationExceptionFactory(tenant=tenant, location=LocationFactory(tenant=tenant))
    run()


def test_text_in_the_visitors_language_falls_back_field_by_field(tenant):
    location = LocationFactory(tenant=tenant, name="Kadıköy Store", description="Default text", services=["Repairs"])
    LocationTranslationFactory(tenant=tenant, location=location, locale="tr", name="Kadıköy Mağazası",
                               description="", services=["Tamir"])
    with tenant_scope(tenant):
        row = selectors.location_by_slug(tenant=tenant, slug=location.slug, locale="tr")
        text = selectors.text_of(row, tenant=tenant, locale="tr")
        assert (text.name, text.description, text.services) == ("Kadıköy Mağazası", "Default text", ["Tamir"])
        default = selectors.text_of(row, tenant=tenant, locale="en")
        assert default.name == "Kadıköy Store"


def test_embedded_fallback_gives_the_same_answer(tenant, spread, monkeypatch):
    """The bounding-box path of embedded mode (no GiST on SQLite), run here on PostgreSQL."""
    origin = Point(41.0082, 28.9784)
    with tenant_scope(tenant):
        indexed = [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=origin, limit=6)]
        monkeypatch.setattr(selectors, "is_postgresql", lambda: False)
        boxed = [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=origin, limit=6)]
        far = [loc.slug for loc in selectors.location_nearest(tenant=tenant, point=Point(-33.9, 151.2), limit=3)]
    assert boxed == indexed
    assert len(far) == 3  # the last box is the whole earth
