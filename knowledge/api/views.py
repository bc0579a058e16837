"""``/api/v1/kb/…``: categories, sections, articles, their translations and versions, votes.
Thin: validate, call one service, serialize (outputs read prefetched rows only)."""
from __future__ import annotations

import secrets

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.people.models import Contact, User
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Scope
from knowledge.api import serializers as s
from knowledge.locales import normalize_locale
from knowledge.models import (
    Article,
    ArticleTranslation,
    ArticleVersion,
    ArticleVote,
    Category,
    CategoryTranslation,
    Section,
    SectionTranslation,
    TranslationStatus,
)
from knowledge.services import content

_READ, _WRITE = Scope.KB_READ, Scope.KB_WRITE
_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)
_LOCALE = OpenApiParameter("locale", str, OpenApiParameter.PATH, description="Language code of the translation.")
_NUMBER = OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version number (from 1).")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="Not found in this tenant.")


class PositionPagination(CursorPagination):
    ordering = ("position", "id")
    page_size = 100


class ArticlePagination(CursorPagination):
    ordering = ("-id",)


class VotePagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _names(items) -> list[content.NameInput]:
    return [content.NameInput(locale=i["locale"], name=i["name"], description=i.get("description", ""))
            for i in items]


def _actor(request):
    return request.user if isinstance(request.user, User) else None


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise exceptions.ValidationError({name: [_("A whole number is required.")]}) from None


@extend_schema_view(
    list=extend_schema(summary="List help-center categories", responses=s.CategoryOutput(many=True)),
    retrieve=extend_schema(summary="Get a category", parameters=[_ID], responses={200: s.CategoryOutput,
                                                                                 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a category", request=s.CategoryCreateInput,
                         responses={201: s.CategoryOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Rename or move a category (translations given are replaced or added)",
                                 parameters=[_ID], request=s.CategoryUpdateInput,
                                 responses={200: s.CategoryOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an empty category", parameters=[_ID],
                          responses={204: None, 400: _INVALID, 404: _NOT_FOUND}),
)
class CategoryViewSet(TenantGenericViewSet):
    model = Category
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = PositionPagination
    serializer_class = s.CategoryOutput

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related(Prefetch("translations", CategoryTranslation.objects.order_by("locale")))

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CategoryOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.CategoryOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = s.CategoryCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        category = content.category_create(tenant=self.tenant, actor=_actor(request),
                                           translations=_names(data.validated_data["translations"]),
                                           position=data.validated_data.get("position"))
        return Response(s.CategoryOutput(self.get_queryset().get(pk=category.pk)).data,
                        status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        category = self.get_object()
        data = s.CategoryUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        content.category_update(category=category, actor=_actor(request),
                                translations=_names(values["translations"]) if "translations" in values else None,
                                position=values.get("position"))
        return Response(s.CategoryOutput(self.get_queryset().get(pk=category.pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        content.category_delete(category=self.get_object(), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="List sections", parameters=[
        OpenApiParameter("category_id", int, description="Only this category's sections."),
        OpenApiParameter("parent_id", int, description="Only the sub-sections of this section.")],
        responses=s.SectionOutput(many=True)),
    retrieve=extend_schema(summary="Get a section", parameters=[_ID], responses={200: s.SectionOutput,
                                                                                404: _NOT_FOUND}),
    create=extend_schema(summary="Create a section (in a category, optionally inside another section)",
                         request=s.SectionCreateInput, responses={201: s.SectionOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Rename or move a section", parameters=[_ID], request=s.SectionUpdateInput,
                                 responses={200: s.SectionOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an empty section", parameters=[_ID],
                          responses={204: None, 400: _INVALID, 404: _NOT_FOUND}),
)
class SectionViewSet(TenantGenericViewSet):
    model = Section
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = PositionPagination
    serializer_class = s.SectionOutput

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related(Prefetch("translations", SectionTranslation.objects.order_by("locale")))

    def _category(self, pk: int) -> Category:
        found = Category.objects.filter(tenant=self.tenant, pk=pk).first()
        if found is None:
            raise exceptions.ValidationError({"category_id": [_("Unknown category.")]})
        return found

    def _section(self, pk: int | None) -> Section | None:
        if pk is None:
            return None
        found = Section.objects.filter(tenant=self.tenant, pk=pk).first()
        if found is None:
            raise exceptions.ValidationError({"parent_id": [_("Unknown section.")]})
        return found

    def list(self, request: Request) -> Response:
        queryset = self.get_queryset()
        category_id, parent_id = _int_param(request, "category_id"), _int_param(request, "parent_id")
        if category_id is not None:
            queryset = queryset.filter(category_id=category_id)
        if parent_id is not None:
            queryset = queryset.filter(parent_id=parent_id)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.SectionOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.SectionOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = s.SectionCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        section = content.section_create(
            tenant=self.tenant, actor=_actor(request), category=self._category(values["category_id"]),
            parent=self._section(values.get("parent_id")), translations=_names(values["translations"]),
            position=values.get("position"))
        return Response(s.SectionOutput(self.get_queryset().get(pk=section.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        section = self.get_object()
        data = s.SectionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        content.section_update(
            section=section, actor=_actor(request),
            translations=_names(values["translations"]) if "translations" in values else None,
            category=self._category(values["category_id"]) if "category_id" in values else None,
            parent=self._section(values["parent_id"]) if "parent_id" in values else False,
            position=values.get("position"))
        return Response(s.SectionOutput(self.get_queryset().get(pk=section.pk)).data)

    def destroy(self, request: Request, pk: str) -> Response:
        content.section_delete(section=self.get_object(), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _translation_input(values: dict, locale: str | None = None) -> content.TranslationInput:
    return content.TranslationInput(locale=locale or values["locale"], title=values["title"],
                                    body_html=values.get("body_html", ""), status=values["status"])


@extend_schema_view(
    list=extend_schema(summary="List articles (every translation, whatever its status)", parameters=[
        OpenApiParameter("section_id", int), OpenApiParameter("label", str),
        OpenApiParameter("status", str, description="Articles with a translation in this status."),
        OpenApiParameter("locale", str, description="Articles with a translation in this language.")],
        responses=s.ArticleOutput(many=True)),
    retrieve=extend_schema(summary="Get an article with its translations", parameters=[_ID],
                           responses={200: s.ArticleOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create an article with its first translations", request=s.ArticleCreateInput,
                         responses={201: s.ArticleOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change an article's section, visibility, labels, owner, review date",
                                 parameters=[_ID], request=s.ArticleUpdateInput,
                                 responses={200: s.ArticleOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an article", parameters=[_ID], responses={204: None, 404: _NOT_FOUND}),
)
class ArticleViewSet(TenantGenericViewSet):
    """Articles and, under ``/translations/{locale}/``, their text per language: save (a new
    version; a published translation's edit waits as its draft), publish now or at a time,
    unpublish, flag as needing an update, versions and restore. Votes under ``/votes/``."""

    model = Article
    scopes = {"list": _READ, "retrieve": _READ, "create": _WRITE, "partial_update": _WRITE, "destroy": _WRITE,
              "translations": _READ, "translation": _READ, "publish": _WRITE, "unpublish": _WRITE, "flag": _WRITE,
              "versions": _READ, "version": _READ, "restore": _WRITE, "votes": _READ}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = ArticlePagination
    serializer_class = s.ArticleOutput

    def check_permissions(self, request):
        # Sub-resources answer reads and writes on one route: the scope follows the method.
        if self.action in ("translations", "translation", "votes"):
            self.scopes = {**self.scopes, self.action: _READ if request.method in ("GET", "HEAD") else _WRITE}
        super().check_permissions(request)

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related(
            Prefetch("translations", ArticleTranslation.objects.order_by("locale")), "organizations", "labels")

    def _output(self, article_id: int) -> dict:
        return s.ArticleOutput(self.get_queryset().get(pk=article_id)).data

    def _section(self, pk: int) -> Section:
        found = Section.objects.filter(tenant=self.tenant, pk=pk).first()
        if found is None:
            raise exceptions.ValidationError({"section_id": [_("Unknown section.")]})
        return found

    def _owner(self, pk: int | None):
        if pk is None:
            return None
        member = (Membership.objects.filter(tenant=self.tenant, user_id=pk, is_active=True)
                  .select_related("user").first())
        if member is None:
            raise exceptions.ValidationError({"owner_id": [_("The owner must be a member of this helpdesk.")]})
        return member.user

    def _translation(self, article: Article, locale: str) -> ArticleTranslation:
        try:
            locale = normalize_locale(locale)
        except Exception:
            raise exceptions.NotFound() from None
        found = ArticleTranslation.objects.filter(article=article, locale=locale).select_related("article__tenant").first()
        if found is None:
            raise exceptions.NotFound(_("The article has no translation in that language."))
        return found

    def list(self, request: Request) -> Response:
        queryset = self.get_queryset()
        section_id = _int_param(request, "section_id")
        if section_id is not None:
            queryset = queryset.filter(section_id=section_id)
        if request.query_params.get("label"):
            queryset = queryset.filter(labels__name__iexact=request.query_params["label"])
        wanted_status, wanted_locale = request.query_params.get("status"), request.query_params.get("locale")
        if wanted_status and wanted_status not in TranslationStatus.values:
            raise exceptions.ValidationError({"status": [_("Unknown status.")]})
        if wanted_status or wanted_locale:
            matching = ArticleTranslation.objects.filter(tenant=self.tenant)
            if wanted_status:
                matching = matching.filter(status=wanted_status)
            if wanted_locale:
                matching = matching.filter(locale=wanted_locale.lower())
            queryset = queryset.filter(pk__in=matching.values("article_id"))
        page = self.paginate_queryset(queryset.distinct())
        return self.get_paginated_response(s.ArticleOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.ArticleOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = s.ArticleCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        article = content.article_create(
            tenant=self.tenant, actor=_actor(request), section=self._section(values["section_id"]),
            translations=[_translation_input(t) for t in values["translations"]],
            visibility=values["visibility"], organization_ids=values["organization_ids"], labels=values["labels"],
            owner=self._owner(values["owner_id"]), is_promoted=values["is_promoted"],
            review_by=values["review_by"], position=values.get("position"))
        return Response(self._output(article.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        article = self.get_object()
        data = s.ArticleUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        content.article_update(
            article=article, actor=_actor(request),
            section=self._section(values["section_id"]) if "section_id" in values else None,
            visibility=values.get("visibility"), organization_ids=values.get("organization_ids"),
            labels=values.get("labels"),
            owner=self._owner(values["owner_id"]) if "owner_id" in values else False,
            is_promoted=values.get("is_promoted"),
            review_by=values["review_by"] if "review_by" in values else False, position=values.get("position"))
        return Response(self._output(article.pk))

    def destroy(self, request: Request, pk: str) -> Response:
        content.article_delete(article=self.get_object(), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- translations ---------------------------------------------------------------------

    @extend_schema(methods=["GET"], summary="List an article's translations", parameters=[_ID],
                   responses=s.ArticleTranslationOutput(many=True))
    @extend_schema(methods=["POST"], summary="Add or save a translation (a new version)", parameters=[_ID],
                   request=s.ArticleTranslationInput, responses={201: s.ArticleTranslationOutput, 400: _INVALID})
    @action(detail=True, methods=["get", "post"], url_path="translations")
    def translations(self, request: Request, pk: str) -> Response:
        article = self.get_object()
        if request.method == "GET":
            return Response(s.ArticleTranslationOutput(article.translations.all(), many=True).data)
        data = s.ArticleTranslationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        translation = content.translation_save(article=article, actor=_actor(request), locale=values["locale"],
                                               title=values["title"], body_html=values["body_html"],
                                               status=values["status"], note=values["note"])
        return Response(s.ArticleTranslationOutput(translation).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="Get one translation", parameters=[_ID, _LOCALE],
                   responses={200: s.ArticleTranslationOutput, 404: _NOT_FOUND})
    @extend_schema(methods=["PUT"], summary="Save a translation (a new version)", parameters=[_ID, _LOCALE],
                   request=s.ArticleTranslationSaveInput,
                   responses={200: s.ArticleTranslationOutput, 400: _INVALID, 404: _NOT_FOUND})
    @extend_schema(methods=["DELETE"], summary="Delete a translation (not the last one)", parameters=[_ID, _LOCALE],
                   responses={204: None, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["get", "put", "delete"], url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})")
    def translation(self, request: Request, pk: str, locale: str) -> Response:
        article = self.get_object()
        translation = self._translation(article, locale)
        if request.method == "GET":
            return Response(s.ArticleTranslationOutput(translation).data)
        if request.method == "DELETE":
            content.translation_delete(translation=translation, actor=_actor(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = s.ArticleTranslationSaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        saved = content.translation_save(article=article, actor=_actor(request), locale=translation.locale,
                                         title=values["title"], body_html=values["body_html"],
                                         status=values["status"], note=values["note"])
        return Response(s.ArticleTranslationOutput(saved).data)

    @extend_schema(summary="Publish a translation now, or schedule it (`at`)", parameters=[_ID, _LOCALE],
                   request=s.PublishInput, responses={200: s.ArticleTranslationOutput, 400: _INVALID,
                                                     404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/publish")
    def publish(self, request: Request, pk: str, locale: str) -> Response:
        translation = self._translation(self.get_object(), locale)
        data = s.PublishInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        translation = content.translation_publish(translation=translation, actor=_actor(request),
                                                  at=data.validated_data["at"])
        return Response(s.ArticleTranslationOutput(translation).data)

    @extend_schema(summary="Take a translation off the help center (archived)", parameters=[_ID, _LOCALE],
                   request=None, responses={200: s.ArticleTranslationOutput, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/unpublish")
    def unpublish(self, request: Request, pk: str, locale: str) -> Response:
        translation = content.translation_unpublish(translation=self._translation(self.get_object(), locale),
                                                    actor=_actor(request))
        return Response(s.ArticleTranslationOutput(translation).data)

    @extend_schema(summary="Flag (or clear) a translation as needing an update", parameters=[_ID, _LOCALE],
                   request=s.FlagInput, responses={200: s.ArticleTranslationOutput, 400: _INVALID,
                                                  404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/flag")
    def flag(self, request: Request, pk: str, locale: str) -> Response:
        translation = self._translation(self.get_object(), locale)
        data = s.FlagInput(data=request.data)
        data.is_valid(raise_exception=True)
        translation = content.translation_flag(translation=translation, actor=_actor(request),
                                               needs_update=data.validated_data["needs_update"])
        return Response(s.ArticleTranslationOutput(translation).data)

    @extend_schema(summary="List a translation's versions, newest first", parameters=[_ID, _LOCALE],
                   responses=s.VersionSummaryOutput(many=True))
    @action(detail=True, methods=["get"], url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/versions")
    def versions(self, request: Request, pk: str, locale: str) -> Response:
        translation = self._translation(self.get_object(), locale)
        return Response(s.VersionSummaryOutput(translation.versions.order_by("-number")[:500], many=True).data)

    def _version(self, translation: ArticleTranslation, number: str) -> ArticleVersion:
        found = ArticleVersion.objects.filter(translation=translation, number=int(number)).first()
        if found is None:
            raise exceptions.NotFound(_("No such version."))
        return found

    @extend_schema(summary="Get one version", parameters=[_ID, _LOCALE, _NUMBER],
                   responses={200: s.VersionOutput, 404: _NOT_FOUND})
    @action(detail=True, methods=["get"],
            url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/versions/(?P<number>[0-9]{1,9})")
    def version(self, request: Request, pk: str, locale: str, number: str) -> Response:
        translation = self._translation(self.get_object(), locale)
        return Response(s.VersionOutput(self._version(translation, number)).data)

    @extend_schema(summary="Bring a version back as the current text (a new version; the draft of a published "
                           "translation)", parameters=[_ID, _LOCALE, _NUMBER], request=None,
                   responses={200: s.ArticleTranslationOutput, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"],
            url_path=r"translations/(?P<locale>[A-Za-z0-9_-]{2,20})/versions/(?P<number>[0-9]{1,9})/restore")
    def restore(self, request: Request, pk: str, locale: str, number: str) -> Response:
        translation = self._translation(self.get_object(), locale)
        restored = content.translation_restore(translation=translation, version=self._version(translation, number),
                                               actor=_actor(request))
        return Response(s.ArticleTranslationOutput(restored).data)

    # --- votes ----------------------------------------------------------------------------

    @extend_schema(methods=["GET"], summary="List an article's votes and comments, newest first",
                   parameters=[_ID], responses=s.VoteOutput(many=True))
    @extend_schema(methods=["POST"], summary="Vote whether the article helped", parameters=[_ID],
                   request=s.VoteInput, responses={201: s.VoteOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["get", "post"], url_path="votes")
    def votes(self, request: Request, pk: str) -> Response:
        article = self.get_object()
        if request.method == "GET":
            paginator = VotePagination()
            page = paginator.paginate_queryset(ArticleVote.objects.filter(article=article), request, view=self)
            return paginator.get_paginated_response(s.VoteOutput(page, many=True).data)
        data = s.VoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        contact = None
        if values["contact_id"] is not None:
            contact = Contact.objects.filter(tenant=self.tenant, pk=values["contact_id"]).first()
            if contact is None:
                raise exceptions.ValidationError({"contact_id": [_("Unknown contact.")]})
        locale = values.get("locale") or self.tenant.default_locale or "en"
        try:
            locale = normalize_locale(locale)
        except Exception:
            raise exceptions.ValidationError({"locale": [_("Not a language code.")]}) from None
        voter = (f"contact:{contact.pk}" if contact is not None and "voter" not in values
                 else f"api:{values['voter']}" if "voter" in values else f"api-anon:{secrets.token_hex(12)}")
        vote = content.article_vote(article=article, voter_key=voter, helpful=values["helpful"],
                                    comment=values["comment"], locale=locale, contact=contact)
        return Response(s.VoteOutput(vote).data, status=status.HTTP_201_CREATED)
