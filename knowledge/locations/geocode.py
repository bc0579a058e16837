"""A typed place ("Kadıköy", "34710", "41.0,29.0") as a point, with no outside service.

In order: coordinates as written; a postcode of the tenant's own locations (the mean of
those with the longest matching prefix, at least two characters: postcodes are laid out
by area in most countries); a city of the tenant's own locations (their mean); a city of
the small offline table (``places``). Anything else is not found, and the page says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from helpdesk.tenancy.models import Tenant
from knowledge.locations.geo import Point, fold, fold_postcode, parse_point
from knowledge.locations.places import PLACES
from knowledge.locations.selectors import centroid, location_queryset

MAX_TEXT = 100
_CANDIDATES = 2000


@dataclass(frozen=True)
class Place:
    point: Point
    label: str
    source: str  # "coordinates", "postcode", "city", "table"


def place_lookup(*, tenant: Tenant, text: str) -> Place | None:
    text = " ".join((text or "").split())[:MAX_TEXT]
    if not text:
        return None
    try:
        return Place(point=parse_point(text), label=text, source="coordinates")
    except ValueError:
        pass
    if any(ch.isdigit() for ch in text):
        found = _by_postcode(tenant, text)
        if found is not None:
            return found
    folded = fold(text)
    rows = list(location_queryset(tenant=tenant).filter(search_text__contains=folded)
                .values_list("city", "latitude", "longitude")[:_CANDIDATES])
    matching = [(lat, lng) for city, lat, lng in rows if fold(city) == folded]
    if matching:
        point = centroid(matching)
        if point is not None:
            label = next(city for city, _lat, _lng in rows if fold(city) == folded)
            return Place(point=point, label=label, source="city")
    if folded in PLACES:
        lat, lng, shown = PLACES[folded]
        return Place(point=Point(lat, lng), label=shown, source="table")
    return None


def _by_postcode(tenant: Tenant, text: str) -> Place | None:
    wanted = fold_postcode(text)
    if len(wanted) < 2:
        return None
    rows = [(fold_postcode(code), code, lat, lng) for code, lat, lng in
            location_queryset(tenant=tenant).filter(search_text__contains=wanted[:2])
            .exclude(postcode="").values_list("postcode", "latitude", "longitude")[:_CANDIDATES]]
    for length in range(len(wanted), 1, -1):
        prefix = wanted[:length]
        matching = [(lat, lng) for code, _shown, lat, lng in rows if code.startswith(prefix)]
        if matching:
            point = centroid(matching)
            if point is not None:
                return Place(point=point, label=text, source="postcode")
    return None
