"""``GET /api/v1/kb/search/``, ``GET /api/v1/kb/autocomplete/`` and ``/api/v1/kb/synonyms/``.

Search answers as the tenant's *public* help center: an API key stands for an integration
(a mobile app's help screen, a chatbot, the widget) that shows articles to customers, so it
sees what an anonymous visitor sees — never internal, signed-in-only or organization
articles, whatever scopes the key holds (agents search internal articles in the console).
Every search is logged with source ``api`` (and the visitor's self-service session when the
caller passes its ``session`` key), so API searches count in the listening reports.
Autocomplete is not logged. Each is a fixed number of queries whatever the help center's size.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.tenancy.context import require_tenant
from helpdesk.tenancy.roles import Scope
from knowledge.audience import ANONYMOUS
from knowledge.locales import enabled_locales, normalize_locale
from knowledge.models import SearchSource, SearchSynonym
from knowledge.search import service, synonyms
from knowledge.search.text import MAX_QUERY_CHARS
from knowledge.services.listening import valid_session_key

_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")


class SearchQuery(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_CHARS, trim_whitespace=True,
                              help_text=gettext_lazy("What to look for (words, \"phrases\", -excluded, or)."))
    locale = serializers.CharField(required=False, max_length=20,
                                   help_text=gettext_lazy("Language code; the help center's default if left out."))
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)
    session = serializers.CharField(required=False, max_length=64,
                                    help_text=gettext_lazy("The visitor's self-service session key, if any."))

    def validate_session(self, value: str) -> str:
        if value and valid_session_key(value) is None:
            raise serializers.ValidationError(_("A session key is 16–64 letters, digits, - or _."))
        return value


class SearchHitOutput(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text=gettext_lazy("HTML: escaped text, the matches in <mark>."))
    url = serializers.CharField(help_text=gettext_lazy("The article's page in the help center."))
    score = serializers.FloatField()
    locale = serializers.CharField(help_text=gettext_lazy("The language of the translation found."))


class SearchOutput(serializers.Serializer):
    results = SearchHitOutput(many=True)
    mode = serializers.ChoiceField(choices=["full", "simple"], help_text=gettext_lazy(
        "\"simple\" on an embedded (SQLite) installation: no stemming, ranking or typo tolerance."))
    search_id = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField()


class AutocompleteHitOutput(serializers.Serializer):
    article_id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    locale = serializers.CharField()


class AutocompleteOutput(serializers.Serializer):
    results = AutocompleteHitOutput(many=True)
    mode = serializers.ChoiceField(choices=["full", "simple"])


def _params(request: Request) -> dict:
    data = SearchQuery(data=request.query_params)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    if not values["q"].strip():
        raise exceptions.ValidationError({"q": [_("This field may not be blank.")]})
    tenant = require_tenant()
    raw = values.get("locale") or tenant.default_locale or "en"
    try:
        locale = normalize_locale(raw)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"locale": exc.messages}) from None
    offered = enabled_locales(tenant)
    if locale not in offered and locale.split("-")[0] not in offered:
        raise exceptions.ValidationError({"locale": [
            _("This help center is not offered in “%(locale)s”.") % {"locale": locale}]})
    values["locale"] = locale
    return values


def _absolute_base(tenant) -> str:
    """The help center's scheme and host (one look-up for all the results)."""
    return tenant.absolute_url("/").rstrip("/")


_QUERY_PARAMETERS = [
    OpenApiParameter("q", str, required=True, description="What to look for (at most 200 characters)."),
    OpenApiParameter("locale", str, description="Language code (en, tr, …); the help center's default if left out."),
]


class KbSearchView(APIView):
    """Search the public help center."""

    scopes = {"GET": Scope.KB_READ}

    @extend_schema(summary="Search the help center", parameters=_QUERY_PARAMETERS + [
        OpenApiParameter("limit", int, description="Results, 1–50 (default 10)."),
        OpenApiParameter("session", str, description="The visitor's self-service session key (deflection)."),
    ], responses={200: SearchOutput, 400: _INVALID})
    def get(self, request: Request) -> Response:
        values = _params(request)
        tenant = require_tenant()
        user_id = request.user.pk if getattr(request.user, "pk", None) else None
        results = service.kb_search(tenant=tenant, query=values["q"], locale=values["locale"], audience=ANONYMOUS,
                                    source=SearchSource.API, limit=values["limit"],
                                    session_key=values.get("session"), user_id=user_id, record=True)
        base = _absolute_base(tenant)
        return Response(SearchOutput({
            "results": [{"article_id": hit.article_id, "title": hit.title, "snippet": hit.snippet_html,
                         "url": base + hit.url, "score": hit.score, "locale": hit.locale}
                        for hit in results.hits],
            "mode": results.mode, "search_id": results.search_id, "total": results.total}).data)


class KbAutocompleteView(APIView):
    """Titles as someone types (not logged)."""

    scopes = {"GET": Scope.KB_READ}

    @extend_schema(summary="Help-center titles matching what is being typed",
                   parameters=_QUERY_PARAMETERS + [OpenApiParameter("limit", int, description="1–50 (default 8).")],
                   responses={200: AutocompleteOutput, 400: _INVALID})
    def get(self, request: Request) -> Response:
        values = _params(request)
        tenant = require_tenant()
        limit = values["limit"] if "limit" in request.query_params else 8
        hits = service.kb_autocomplete(tenant=tenant, prefix=values["q"], locale=values["locale"],
                                       audience=ANONYMOUS, limit=limit)
        base = _absolute_base(tenant)
        return Response(AutocompleteOutput({
            "results": [{"article_id": hit.article_id, "title": hit.title, "url": base + hit.url,
                         "locale": hit.locale} for hit in hits],
            "mode": service.search_mode()}).data)


# --- synonyms -------------------------------------------------------------------------------

class SynonymOutput(serializers.ModelSerializer):
    terms = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SearchSynonym
        fields = ["id", "locale", "terms", "created_at", "updated_at"]


class SynonymInput(StrictInputSerializer):
    locale = serializers.CharField(max_length=20)
    terms = serializers.ListField(child=serializers.CharField(max_length=60, allow_blank=True),
                                  max_length=20, min_length=2)


class SynonymUpdateInput(StrictInputSerializer):
    locale = serializers.CharField(max_length=20, required=False)
    terms = serializers.ListField(child=serializers.CharField(max_length=60, allow_blank=True),
                                  max_length=20, min_length=2, required=False)


class SynonymPagination(CursorPagination):
    ordering = ("locale", "id")
    page_size = 100


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(summary="List search synonyms", responses=SynonymOutput(many=True)),
    retrieve=extend_schema(summary="Get a synonym set", parameters=[_ID],
                           responses={200: SynonymOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Add a set of equivalent search terms", request=SynonymInput,
                         responses={201: SynonymOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a synonym set", parameters=[_ID], request=SynonymUpdateInput,
                                 responses={200: SynonymOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a synonym set", parameters=[_ID],
                          responses={204: None, 404: _NOT_FOUND}),
)
class SynonymViewSet(TenantGenericViewSet):
    """Sets of terms the search treats as the same ("refund", "money back")."""

    model = SearchSynonym
    scopes = {"list": Scope.KB_READ, "retrieve": Scope.KB_READ, "create": Scope.KB_WRITE,
              "partial_update": Scope.KB_WRITE, "destroy": Scope.KB_WRITE}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = SynonymPagination
    serializer_class = SynonymOutput

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SynonymOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(SynonymOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = SynonymInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = synonyms.synonym_create(tenant=self.tenant, **data.validated_data)
        return Response(SynonymOutput(row).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        row = self.get_object()
        data = SynonymUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        row = synonyms.synonym_update(synonym=row, **data.validated_data)
        return Response(SynonymOutput(row).data)

    def destroy(self, request: Request, pk: str) -> Response:
        synonyms.synonym_delete(synonym=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
