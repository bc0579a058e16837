"""``/api/v1/locations/`` and ``/api/v1/locations/imports/``: service locations. Thin.

Reads need ``kb:read``, writes ``kb:write`` (the services check the person's ``kb.publish``
again). ``GET /api/v1/locations/?near=lat,lng&q=`` answers the nearest first from the GiST
index (a bounded list: ``limit``, at most 100, no cursor); without ``near``/``place`` the list
is in name order with cursor pagination. Every list is three queries (rows with team and
calendar, upcoming exceptions, translations) whatever its length.
"""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.audit.services import request_meta
from helpdesk.calendars.models import BusinessCalendar
from helpdesk.people import imports as people_imports
from helpdesk.people.api.serializers import ImportJobOutput
from helpdesk.people.models import ImportJob, ImportKind, Team
from helpdesk.tenancy.roles import Scope
from knowledge.locations import selectors, services
from knowledge.locations.geo import Point, directions_url, parse_point
from knowledge.locations.geocode import place_lookup
from knowledge.models import Location, LocationKind
from tickets.sla.calendars import clean_intervals, weekly_to_intervals

_READ, _WRITE = Scope.KB_READ, Scope.KB_WRITE
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Location id.")


# --- shapes -------------------------------------------------------------------------------------


class IntervalShape(serializers.Serializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6, help_text=_("0 is Monday."))
    start = serializers.CharField(help_text=_("HH:MM"))
    end = serializers.CharField(help_text=_("HH:MM, up to 24:00"))


class HoursShape(serializers.Serializer):
    start = serializers.CharField()
    end = serializers.CharField()


class ExceptionShape(serializers.Serializer):
    date = serializers.DateField()
    closed = serializers.BooleanField(required=False, help_text=_("Closed all day (the default without hours)."))
    hours = HoursShape(many=True, required=False, help_text=_("Special hours replacing the weekday's."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    note_translations = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True),
                                              required=False)


class TranslationShape(serializers.Serializer):
    locale = serializers.CharField(max_length=20)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    services = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=30)
    directions_note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class OpenStateOutput(serializers.Serializer):
    is_open = serializers.BooleanField()
    closes_at = serializers.DateTimeField(allow_null=True, help_text=_("When open: when it closes (null: open "
                                                                       "around the clock)."))
    opens_at = serializers.DateTimeField(allow_null=True, help_text=_("When closed: the next opening."))


class LocationOutput(serializers.Serializer):
    """Reads only what the queryset prefetched (``selectors.with_details`` + translations)."""

    id = serializers.IntegerField()
    slug = serializers.CharField()
    kind = serializers.ChoiceField(choices=LocationKind.choices)
    name = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    phone = serializers.CharField()
    email = serializers.CharField()
    timezone = serializers.CharField()
    opening_hours = serializers.SerializerMethodField()
    exceptions = serializers.SerializerMethodField(help_text=_("Dates from yesterday on."))
    services = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    directions_note = serializers.CharField()
    translations = serializers.SerializerMethodField()
    team_id = serializers.IntegerField(allow_null=True)
    calendar_id = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    open_now = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField(help_text=_("From `near` or `place`; null otherwise."))
    url = serializers.SerializerMethodField(help_text=_("The location's page in the help center."))
    directions_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(IntervalShape(many=True))
    def get_opening_hours(self, obj: Location) -> list:
        return weekly_to_intervals(obj.opening_hours or {})

    @extend_schema_field(ExceptionShape(many=True))
    def get_exceptions(self, obj: Location) -> list:
        return [{"date": e.date.isoformat(), "closed": e.closed,
                 "hours": [{"start": s, "end": t} for s, t in (e.hours or [])], "note": e.note,
                 "note_translations": e.note_translations or {}} for e in obj.upcoming_exceptions]

    @extend_schema_field(TranslationShape(many=True))
    def get_translations(self, obj: Location) -> list:
        return [{"locale": t.locale, "name": t.name, "description": t.description, "services": t.services,
                 "directions_note": t.directions_note} for t in obj.all_translations]

    @extend_schema_field(OpenStateOutput)
    def get_open_now(self, obj: Location) -> dict:
        state = selectors.open_state_of(obj, self.context.get("now"))
        return {"is_open": state.is_open,
                "closes_at": state.closes_at.isoformat() if state.closes_at else None,
                "opens_at": state.opens_at.isoformat() if state.opens_at else None}

    def get_distance_km(self, obj: Location) -> float | None:
        distance = getattr(obj, "distance_km", None)
        return round(distance, 3) if distance is not None else None

    def get_url(self, obj: Location) -> str:
        return f"/hc/locations/{obj.slug}/"

    def get_directions_url(self, obj: Location) -> str:
        return directions_url(obj.latitude, obj.longitude)


class LocationListParams(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100,
                              help_text=_("Words of the name, city, postcode, address or services (any language; "
                                          "case, dotted/dotless i and accents do not matter)."))
    near = serializers.CharField(required=False, max_length=60,
                                 help_text=_("`lat,lng`: nearest first, with `distance_km`."))
    place = serializers.CharField(required=False, max_length=100,
                                  help_text=_("A typed city or postcode, found among this helpdesk's locations "
                                              "(or a small built-in list of cities): nearest first."))
    kind = serializers.ChoiceField(choices=LocationKind.choices, required=False)
    open_now = serializers.BooleanField(required=False, allow_null=True, default=None,
                                        help_text=_("Only the locations open now (a bounded list)."))
    include_inactive = serializers.BooleanField(required=False, default=False,
                                                help_text=_("Also the locations hidden from the help center."))
    limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_NEAREST,
                                     default=selectors.DEFAULT_NEAREST,
                                     help_text=_("How many to return with `near`, `place` or `open_now`."))
    cursor = serializers.CharField(required=False, max_length=500)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    def validate_near(self, value: str) -> Point:
        try:
            return parse_point(value)
        except ValueError:
            raise serializers.ValidationError(_("Use lat,lng such as 41.0082,28.9784 (latitude within ±90, "
                                                "longitude within ±180).")) from None


class _LocationFields(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=LocationKind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False)
    slug = serializers.CharField(max_length=80, required=False)
    address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False)
    opening_hours = serializers.ListField(child=serializers.DictField(), required=False, max_length=7 * 6,
                                          help_text=_("`[{\"weekday\": 0, \"start\": \"09:00\", \"end\": \"18:00\"}]`"
                                                      " (0 is Monday); a day without intervals is closed."))
    services = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=30)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    directions_note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    team_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    calendar_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    is_active = serializers.BooleanField(required=False)
    translations = serializers.ListField(child=serializers.DictField(), required=False, max_length=30,
                                         help_text=_("Replaces the stored ones: `[{\"locale\", \"name\", "
                                                     "\"description\", \"services\", \"directions_note\"}]`."))
    exceptions = serializers.ListField(child=serializers.DictField(), required=False, max_length=500,
                                       help_text=_("Replaces the stored ones: `[{\"date\", \"closed\", \"hours\": "
                                                   "[{\"start\", \"end\"}], \"note\", \"note_translations\"}]`."))


class LocationCreateInput(_LocationFields):
    name = serializers.CharField(max_length=200)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)


class LocationUpdateInput(_LocationFields):
    pass


class LocationImportInput(StrictInputSerializer):
    file = serializers.FileField(help_text=_("CSV (UTF-8 or Windows-1254), comma, semicolon or tab "
                                                        "separated."))


# --- views ----------------------------------------------------------------------------------------


class LocationPagination(CursorPagination):
    ordering = ("name", "id")


def _service_values(*, tenant, data: dict) -> tuple[dict, list | None, list | None]:
    """The input's fields in the service's shape; ids looked up inside the tenant."""
    values = dict(data)
    translations = values.pop("translations", None)
    exceptions_ = values.pop("exceptions", None)
    if "opening_hours" in values:
        try:
            values["opening_hours"] = clean_intervals(values["opening_hours"])
        except DjangoValidationError as exc:  # named after the settings' field: rename to ours
            raise exceptions.ValidationError({key.replace("intervals", "opening_hours", 1): texts
                                              for key, texts in exc.message_dict.items()}) from None
    if "team_id" in values:
        team_id = values.pop("team_id")
        values["team"] = None if team_id is None else Team.objects.filter(tenant=tenant, pk=team_id).first()
        if team_id is not None and values["team"] is None:
            raise exceptions.ValidationError({"team_id": [_("No such team.")]})
    if "calendar_id" in values:
        calendar_id = values.pop("calendar_id")
        values["calendar"] = (None if calendar_id is None
                              else BusinessCalendar.objects.filter(tenant=tenant, pk=calendar_id).first())
        if calendar_id is not None and values["calendar"] is None:
            raise exceptions.ValidationError({"calendar_id": [_("No such business-hours calendar.")]})
    return values, translations, exceptions_


def _with_output(queryset):
    from django.db.models import Prefetch

    from knowledge.models import LocationTranslation

    return selectors.with_details(queryset).prefetch_related(
        Prefetch("translations", queryset=LocationTranslation.objects.order_by("locale"), to_attr="all_translations"))


@extend_schema_view(
    list=extend_schema(summary="List, search, or find the nearest service locations",
                       parameters=[LocationListParams], responses=LocationOutput(many=True),
                       description="Without `near`/`place`: name order, cursor pagination. With `near=lat,lng` or "
                                   "`place=<city or postcode>`: the `limit` nearest, nearest first (a GiST index "
                                   "answers it, not a scan), each with `distance_km`. `open_now=true` keeps those "
                                   "open now (looking at the first 500 candidates)."),
    retrieve=extend_schema(summary="Get a service location", parameters=[_ID],
                           responses={200: LocationOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a service location", request=LocationCreateInput,
                         responses={201: LocationOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a service location", parameters=[_ID], request=LocationUpdateInput,
                                 responses={200: LocationOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a service location", parameters=[_ID],
                          responses={204: None, 404: _NOT_FOUND}),
)
class LocationViewSet(TenantGenericViewSet):
    """Stores, service centres and pick-up points, with opening hours, holiday exceptions,
    services and translations. A request started from a location's help-center page goes to
    its team."""

    model = Location
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = LocationPagination
    serializer_class = LocationOutput
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}

    def safely_get_queryset(self, queryset):
        return _with_output(queryset) if self.action in ("retrieve", "list") else queryset

    def _output(self, obj, **kwargs):
        return LocationOutput(obj, context={"now": timezone.now()}, **kwargs).data

    def list(self, request: Request) -> Response:
        params = LocationListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        tenant = self.tenant
        base = self.get_queryset()
        if not data["include_inactive"]:
            base = base.filter(is_active=True)
        point = data.get("near")
        if point is None and data.get("place"):
            place = place_lookup(tenant=tenant, text=data["place"])
            if place is None:
                raise exceptions.ValidationError({"place": [_("No such city or postcode among the locations.")]})
            point = place.point
        open_now = bool(data.get("open_now"))
        now = timezone.now()
        if point is not None:
            finder = selectors.location_nearest_open if open_now else selectors.location_nearest
            rows = finder(tenant=tenant, point=point, q=data.get("q", ""), kind=data.get("kind"),
                          prepare=_with_output, active_only=not data["include_inactive"], limit=data["limit"])
            return Response({"next": None, "previous": None, "results": self._output(rows, many=True)})
        queryset = selectors.location_list(tenant=tenant, q=data.get("q", ""), kind=data.get("kind"), queryset=base)
        if open_now:
            rows = selectors.only_open(list(queryset[:selectors.OPEN_NOW_CANDIDATES]), now)[:data["limit"]]
            return Response({"next": None, "previous": None, "results": self._output(rows, many=True)})
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self._output(page, many=True))

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._output(self.get_object()))

    def _fresh(self, location: Location) -> dict:
        return self._output(_with_output(Location.objects.filter(tenant=self.tenant, pk=location.pk)).get())

    def create(self, request: Request) -> Response:
        data = LocationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values, translations, exceptions_ = _service_values(tenant=self.tenant, data=data.validated_data)
        location = services.location_create(tenant=self.tenant, actor=request.user, values=values,
                                            translations=translations, exceptions=exceptions_,
                                            audit_meta=request_meta(request))
        return Response(self._fresh(location), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        location = self.get_object()
        data = LocationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values, translations, exceptions_ = _service_values(tenant=self.tenant, data=data.validated_data)
        location = services.location_update(location=location, actor=request.user, values=values,
                                            translations=translations, exceptions=exceptions_,
                                            audit_meta=request_meta(request))
        return Response(self._fresh(location))

    def destroy(self, request: Request, pk: str) -> Response:
        services.location_delete(location=self.get_object(), actor=request.user, audit_meta=request_meta(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class LocationImportPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


@extend_schema_view(
    list=extend_schema(summary="List CSV imports of locations, newest first", responses=ImportJobOutput(many=True)),
    retrieve=extend_schema(summary="A location import's progress and row errors", parameters=[_ID],
                           responses={200: ImportJobOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Import service locations from CSV",
                         request={"multipart/form-data": LocationImportInput},
                         responses={201: ImportJobOutput, 400: _INVALID},
                         description="Columns: `name, slug, kind, address, city, postcode, country, latitude, "
                                     "longitude, phone, email, timezone, team, calendar, services, description, "
                                     "directions_note, active, mon … sun` and `<field>:<locale>` translations. A "
                                     "row updates the location with the same slug (or name in the same city) or "
                                     "creates one. Checked at once, processed in the background: poll for "
                                     "progress and per-row errors."),
)
class LocationImportViewSet(TenantGenericViewSet):
    model = ImportJob
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = LocationImportPagination
    serializer_class = ImportJobOutput
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    scopes = {"list": _WRITE, "retrieve": _WRITE, "create": _WRITE}

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind=ImportKind.LOCATIONS).order_by("-created_at", "-id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ImportJobOutput([people_imports.import_job_status(j) for j in page],
                                                           many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ImportJobOutput(people_imports.import_job_status(self.get_object())).data)

    def create(self, request: Request) -> Response:
        data = LocationImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = people_imports.import_job_create(tenant=self.tenant, kind=ImportKind.LOCATIONS, data=upload.read(),
                                               filename=upload.name, actor=request.user)
        return Response(ImportJobOutput(people_imports.import_job_status(job)).data, status=status.HTTP_201_CREATED)
