"""Points on the earth, distances and text folding for location search (pure functions).

Nearest-first on PostgreSQL orders by the straight-line (chord) distance between unit
vectors, which a GiST index on ``cube(array[x, y, z])`` answers with a KNN scan; the chord
grows monotonically with the great-circle distance (``chord = 2 sin(d / 2R)``), so the order
is the same, and the kilometres shown are the haversine distance computed afterwards.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
_POINT = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lng <= 180.0):
            raise ValueError("latitude must be within ±90 and longitude within ±180")
        if not (math.isfinite(self.lat) and math.isfinite(self.lng)):
            raise ValueError("coordinates must be finite numbers")


def parse_point(text: str) -> Point:
    """``"41.0082,28.9784"`` → Point; ValueError for anything else (out of range included)."""
    match = _POINT.match(text or "")
    if not match:
        raise ValueError("use lat,lng such as 41.0082,28.9784")
    return Point(float(match.group(1)), float(match.group(2)))


def unit_vector(lat: float, lng: float) -> tuple[float, float, float]:
    """The point on the unit sphere (earth-centred, x towards 0°,0°, z towards the north pole)."""
    phi, lam = math.radians(lat), math.radians(lng)
    cos_phi = math.cos(phi)
    return (cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi))


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in kilometres on a spherical earth (error under 0.5 %)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lam = phi2 - phi1, math.radians(lng2 - lng1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def chord_to_km(chord: float) -> float:
    """Great-circle kilometres of a chord between unit vectors (the index's distance)."""
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, max(0.0, chord) / 2))


def km_to_chord(km: float) -> float:
    return 2 * math.sin(min(math.pi, max(0.0, km) / EARTH_RADIUS_KM) / 2)


def bounding_box(lat: float, lng: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) holding every point within ``km`` of (lat, lng).

    Near a pole, or when the box would cross the antimeridian, the longitude range is the
    whole circle (-180, 180): a wider prefilter, never a missed point.
    """
    d_lat = math.degrees(km / EARTH_RADIUS_KM)
    min_lat, max_lat = lat - d_lat, lat + d_lat
    if min_lat <= -90 or max_lat >= 90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    ratio = math.sin(km / EARTH_RADIUS_KM) / math.cos(math.radians(lat))
    if ratio >= 1:
        return min_lat, max_lat, -180.0, 180.0
    d_lng = math.degrees(math.asin(ratio))
    min_lng, max_lng = lng - d_lng, lng + d_lng
    if min_lng < -180 or max_lng > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, min_lng, max_lng


def directions_url(lat: float, lng: float) -> str:
    """A link to directions on OpenStreetMap (the visitor's browser asks for their start)."""
    return f"https://www.openstreetmap.org/directions?to={lat:.6f}%2C{lng:.6f}"


def map_url(lat: float, lng: float, zoom: int = 17) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lng:.6f}#map={zoom}/{lat:.6f}/{lng:.6f}"


# --- text ------------------------------------------------------------------------------------

# Dotted and dotless i of Turkish, whatever the case, all read as "i"; other letters lose
# their accents (ş → s, ö → o, é → e) so "kadikoy", "KADIKÖY" and "Kadıköy" find each other.
_I_FORMS = str.maketrans({"İ": "i", "I": "i", "ı": "i", "i": "i"})
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Search form of a text: case, dotted/dotless i and accents folded, spaces squeezed."""
    text = (text or "").translate(_I_FORMS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o").replace("đ", "d").replace("ł", "l")
    return _SPACE.sub(" ", text).strip()


def fold_postcode(text: str) -> str:
    """Postcodes compare without spaces and case ("SW1A 1AA" = "sw1a1aa")."""
    return re.sub(r"[\s-]", "", (text or "")).lower()
