"""knowledge.locations.geo: distances, the index's chord order, bounding boxes, text folding."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, strategies as st

from knowledge.locations import geo

lat = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lng = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)


def test_haversine_known_distances():
    # One degree of a meridian is R·π/180; Istanbul to Ankara is about 350 km as the crow flies.
    assert geo.haversine_km(0, 0, 1, 0) == pytest.approx(geo.EARTH_RADIUS_KM * math.pi / 180, rel=1e-12)
    assert geo.haversine_km(41.0082, 28.9784, 39.9334, 32.8597) == pytest.approx(350, abs=2)
    # A quarter of the equator.
    assert geo.haversine_km(0, 0, 0, 90) == pytest.approx(math.pi / 2 * geo.EARTH_RADIUS_KM, rel=1e-9)
    assert geo.haversine_km(10, 20, 10, 20) == 0


@given(lat, lng, lat, lng)
def test_chord_distance_converts_to_haversine(lat1, lng1, lat2, lng2):
    a, b = geo.unit_vector(lat1, lng1), geo.unit_vector(lat2, lng2)
    chord = math.dist(a, b)
    assert geo.chord_to_km(chord) == pytest.approx(geo.haversine_km(lat1, lng1, lat2, lng2), abs=1e-6)


@given(lat, lng, lat, lng, lat, lng)
def test_chord_order_is_great_circle_order(plat, plng, lat1, lng1, lat2, lng2):
    """What the GiST index orders by (chord) orders points as the distance shown (haversine)."""
    p = geo.unit_vector(plat, plng)
    d1, d2 = geo.haversine_km(plat, plng, lat1, lng1), geo.haversine_km(plat, plng, lat2, lng2)
    c1, c2 = math.dist(p, geo.unit_vector(lat1, lng1)), math.dist(p, geo.unit_vector(lat2, lng2))
    if abs(d1 - d2) > 1e-6:
        assert (c1 < c2) == (d1 < d2)


@settings(max_examples=300)
@given(lat, lng, st.floats(min_value=0.5, max_value=5000), st.floats(min_value=0, max_value=1),
       st.floats(min_value=0, max_value=360))
def test_bounding_box_holds_every_point_within_the_radius(plat, plng, km, fraction, bearing):
    # The point at ``fraction * km`` along ``bearing`` (spherical destination formula).
    d = fraction * km / geo.EARTH_RADIUS_KM
    phi1, lam1, theta = math.radians(plat), math.radians(plng), math.radians(bearing)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lam2 = lam1 + math.atan2(math.sin(theta) * math.sin(d) * math.cos(phi1),
                             math.cos(d) - math.sin(phi1) * math.sin(phi2))
    qlat, qlng = math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180
    min_lat, max_lat, min_lng, max_lng = geo.bounding_box(plat, plng, km)
    assert min_lat - 1e-9 <= qlat <= max_lat + 1e-9
    assert min_lng - 1e-9 <= qlng <= max_lng + 1e-9


@pytest.mark.parametrize("text,expected", [
    ("41.0082,28.9784", (41.0082, 28.9784)), (" -33.8688 , 151.2093 ", (-33.8688, 151.2093)), ("0,0", (0, 0)),
])
def test_parse_point(text, expected):
    point = geo.parse_point(text)
    assert (point.lat, point.lng) == expected


@pytest.mark.parametrize("text", ["", "41.0", "abc,def", "91,0", "0,181", "1,2,3", "nan,nan", "1e5,2"])
def test_parse_point_refuses(text):
    with pytest.raises(ValueError):
        geo.parse_point(text)


def test_fold_dotted_and_dotless_i_and_accents():
    assert geo.fold("KADIKÖY") == geo.fold("Kadıköy") == geo.fold("kadikoy") == "kadikoy"
    assert geo.fold("İSTANBUL") == geo.fold("istanbul") == "istanbul"
    assert geo.fold("  Şişli   Çarşı ") == "sisli carsi"
    assert geo.fold("München") == "munchen"
    assert geo.fold_postcode("SW1A 1AA") == "sw1a1aa"


def test_links_to_openstreetmap():
    assert geo.directions_url(41.0, 29.0) == "https://www.openstreetmap.org/directions?to=41.000000%2C29.000000"
    assert geo.map_url(41.0, 29.0).startswith("https://www.openstreetmap.org/?mlat=41.000000&mlon=29.000000")
