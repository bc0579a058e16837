"""Help-center pages of service locations: ``/hc/locations/`` and ``/hc/locations/<slug>/``.

Server-rendered and complete without JavaScript: the search form takes a text, a typed city
or postcode, and the kind; with JavaScript, "Use my location" fills ``near`` from the
browser's geolocation and submits the same form. Thin: parse, call a selector, render.
"""
from __future__ import annotations

import zoneinfo

from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode

from knowledge.locations import display, selectors
from knowledge.locations.geo import Point, directions_url, map_url, parse_point
from knowledge.locations.geocode import place_lookup
from knowledge.locations.routing import location_routing
from knowledge.models import Location, LocationKind
from knowledge.views.helpcenter_base import HelpCenterView

PAGE_SIZE = 30
NEAREST = 20


class LocationPageView(HelpCenterView):
    """The help center's frame (tenant host, help center on, the visitor's language among the
    tenant's, session cookie); these pages have no locale in their path: the switcher adds
    ``?lang=``."""

    def url_in(self, locale: str) -> str:
        return f"{self.request.path}?{urlencode({'lang': locale})}"

    def row(self, location: Location, now) -> dict:
        state = selectors.open_state_of(location, now)
        text = selectors.text_of(location, tenant=self.tenant, locale=self.locale)
        return {"location": location, "text": text, "state": display.describe_state(state),
                "kind": display.kind_label(location),
                "distance": display.distance_text(getattr(location, "distance_km", None)),
                "directions_url": directions_url(location.latitude, location.longitude)}


class LocationListView(LocationPageView):
    def get(self, request):
        q = " ".join(request.GET.get("q", "").split())[:100]
        place_text = " ".join(request.GET.get("place", "").split())[:100]
        kind = request.GET.get("kind") if request.GET.get("kind") in LocationKind.values else ""
        open_now = request.GET.get("open_now") in ("1", "on", "true")
        point: Point | None = None
        origin = ""
        problem = ""
        raw_near = request.GET.get("near", "")
        if raw_near:
            try:
                point = parse_point(raw_near[:60])
                origin = "device"
            except ValueError:
                problem = "near"
        if point is None and place_text:
            place = place_lookup(tenant=self.tenant, text=place_text)
            if place is None:
                problem = "place"
            else:
                point, origin = place.point, place.label
        now = timezone.now()
        has_next = False
        page = 1
        if point is not None:
            finder = selectors.location_nearest_open if open_now else selectors.location_nearest
            rows = finder(tenant=self.tenant, point=point, q=q, kind=kind or None, locale=self.locale, limit=NEAREST)
        else:
            try:
                page = max(1, min(int(request.GET.get("page", "1")), 1000))
            except ValueError:
                page = 1
            queryset = selectors.with_details(
                selectors.location_list(tenant=self.tenant, q=q, kind=kind or None), locale=self.locale,
                tenant=self.tenant)
            if open_now:
                rows = list(queryset[:selectors.OPEN_NOW_CANDIDATES])
            else:
                rows = list(queryset[(page - 1) * PAGE_SIZE:page * PAGE_SIZE + 1])
                has_next = len(rows) > PAGE_SIZE
                rows = rows[:PAGE_SIZE]
        if open_now and point is None:
            rows = selectors.only_open(rows, now)[:PAGE_SIZE]
        query = request.GET.copy()
        query.pop("page", None)
        return self.page("helpcenter/locations/list.html", {
            "rows": [self.row(location, now) for location in rows], "q": q, "place": place_text, "kind": kind,
            "open_now": open_now, "near": raw_near if point is not None and origin == "device" else "",
            "origin": origin, "problem": problem, "nearest": point is not None, "kinds": LocationKind.choices,
            "page": page, "has_next": has_next, "has_previous": page > 1 and point is None,
            "query": query.urlencode(),
        })


class LocationDetailView(LocationPageView):
    model = Location
    slug_field = "slug"
    slug_url_kwarg = "slug"

    def get(self, request, slug: str):
        location = selectors.location_by_slug(tenant=self.tenant, slug=slug[:80], locale=self.locale)
        if location is None:
            raise Http404
        now = timezone.now()
        row = self.row(location, now)
        team, calendar = location_routing(location=location)
        today = now.astimezone(zoneinfo.ZoneInfo(selectors.zone_name(location))).date()
        return self.page("helpcenter/locations/detail.html", {
            **row, "weekly": display.weekly_rows(location.opening_hours),
            "exceptions": display.exception_rows(getattr(location, "upcoming_exceptions", []), locale=self.locale,
                                                 today=today),
            "map_url": map_url(location.latitude, location.longitude), "team": team,
            "location_contact_url": self.contact_link() + ("&" if "?" in self.contact_link() else "?")
            + urlencode({"location": location.slug}),
            "timezone_differs": location.timezone != self.tenant.timezone,
        })
