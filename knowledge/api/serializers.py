"""Help-center content API shapes: strict inputs, outputs that never query (prefetched)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from helpdesk.api.serializers import StrictInputSerializer
from knowledge.links import article_path
from knowledge.models import (
    Article,
    ArticleTranslation,
    ArticleVersion,
    ArticleVote,
    Category,
    Section,
    TranslationStatus,
    Visibility,
)

_LOCALE = serializers.CharField(max_length=20, help_text=_("Language code, e.g. en, tr, pt-br."))


class NameTranslationOutput(serializers.Serializer):
    locale = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()


class NameTranslationInput(StrictInputSerializer):
    locale = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class CategoryOutput(serializers.ModelSerializer):
    translations = NameTranslationOutput(many=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "position", "translations", "created_at", "updated_at"]
        read_only_fields = fields


class CategoryCreateInput(StrictInputSerializer):
    translations = NameTranslationInput(many=True, allow_empty=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class CategoryUpdateInput(StrictInputSerializer):
    translations = NameTranslationInput(many=True, required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class SectionOutput(serializers.ModelSerializer):
    category_id = serializers.IntegerField(read_only=True)
    parent_id = serializers.IntegerField(read_only=True, allow_null=True)
    translations = NameTranslationOutput(many=True, read_only=True)

    class Meta:
        model = Section
        fields = ["id", "category_id", "parent_id", "position", "translations", "created_at", "updated_at"]
        read_only_fields = fields


class SectionCreateInput(StrictInputSerializer):
    category_id = serializers.IntegerField()
    parent_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    translations = NameTranslationInput(many=True, allow_empty=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class SectionUpdateInput(StrictInputSerializer):
    category_id = serializers.IntegerField(required=False)
    parent_id = serializers.IntegerField(required=False, allow_null=True)
    translations = NameTranslationInput(many=True, required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class ArticleTranslationOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text=_("The article's page in the help center (published only)."))

    class Meta:
        model = ArticleTranslation
        fields = ["locale", "title", "body_html", "status", "has_draft", "draft_title", "draft_body_html",
                  "publish_at", "published_at", "needs_update", "url", "created_at", "updated_at"]
        read_only_fields = fields

    def get_url(self, obj: ArticleTranslation) -> str | None:
        if obj.status != TranslationStatus.PUBLISHED:
            return None
        return article_path(locale=obj.locale, article_id=obj.article_id, title=obj.title)


class ArticleTranslationInput(StrictInputSerializer):
    locale = serializers.CharField(max_length=20)
    title = serializers.CharField(max_length=255)
    body_html = serializers.CharField(required=False, allow_blank=True, default="", max_length=500_000,
                                      trim_whitespace=False)
    status = serializers.ChoiceField(choices=[TranslationStatus.DRAFT, TranslationStatus.REVIEW,
                                              TranslationStatus.PUBLISHED], default=TranslationStatus.DRAFT)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class ArticleTranslationSaveInput(ArticleTranslationInput):
    locale = None  # taken from the URL


class ArticleOutput(serializers.ModelSerializer):
    section_id = serializers.IntegerField(read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    source_ticket_id = serializers.IntegerField(read_only=True, allow_null=True)
    organization_ids = serializers.SerializerMethodField()
    labels = serializers.SerializerMethodField()
    helpfulness = serializers.FloatField(read_only=True, allow_null=True)
    translations = ArticleTranslationOutput(many=True, read_only=True)

    class Meta:
        model = Article
        fields = ["id", "section_id", "position", "visibility", "organization_ids", "labels", "is_promoted",
                  "owner_id", "review_by", "source_ticket_id", "view_count", "helpful_count", "unhelpful_count",
                  "helpfulness", "translations", "first_published_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_organization_ids(self, obj: Article) -> list[int]:
        return sorted(org.pk for org in obj.organizations.all())  # prefetched

    def get_labels(self, obj: Article) -> list[str]:
        return sorted(label.name for label in obj.labels.all())  # prefetched


class ArticleCreateInput(StrictInputSerializer):
    section_id = serializers.IntegerField()
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    organization_ids = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                             max_length=500)
    labels = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                   max_length=50)
    is_promoted = serializers.BooleanField(required=False, default=False)
    owner_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    review_by = serializers.DateField(required=False, allow_null=True, default=None)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)
    translations = ArticleTranslationInput(many=True, allow_empty=False)


class ArticleUpdateInput(StrictInputSerializer):
    section_id = serializers.IntegerField(required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    organization_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=500)
    labels = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=50)
    is_promoted = serializers.BooleanField(required=False)
    owner_id = serializers.IntegerField(required=False, allow_null=True)
    review_by = serializers.DateField(required=False, allow_null=True)
    position = serializers.IntegerField(required=False, min_value=0, max_value=1_000_000)


class PublishInput(StrictInputSerializer):
    at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                   help_text=_("Publish at this time instead of now."))


class FlagInput(StrictInputSerializer):
    needs_update = serializers.BooleanField()


class VersionOutput(serializers.ModelSerializer):
    author_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "body_html", "was_published", "note", "author_id", "created_at"]
        read_only_fields = fields


class VersionSummaryOutput(VersionOutput):
    class Meta(VersionOutput.Meta):
        fields = ["number", "title", "was_published", "note", "author_id", "created_at"]
        read_only_fields = fields


class VoteInput(StrictInputSerializer):
    helpful = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    locale = serializers.CharField(required=False, max_length=20)
    voter = serializers.CharField(required=False, max_length=64, help_text=_(
        "Your own stable id of the person voting (a second vote with the same id replaces the first). "
        "Without it every call is a new vote."))
    contact_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class VoteOutput(serializers.ModelSerializer):
    article_id = serializers.IntegerField(read_only=True)
    contact_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = ArticleVote
        fields = ["id", "article_id", "helpful", "comment", "locale", "contact_id", "created_at", "updated_at"]
        read_only_fields = fields
