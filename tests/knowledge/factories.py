"""Factories of the knowledge app (the isolation harness makes one row of each)."""
from __future__ import annotations

import datetime as dt

import factory

from knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleLabel,
    ArticleOrganization,
    ArticleTranslation,
    ArticleVersion,
    ArticleView,
    ArticleVote,
    Category,
    CategoryTranslation,
    ContentGap,
    ContentGapQuery,
    ContentGapState,
    ContentHealthNotice,
    HelpCenterSettings,
    Label,
    Location,
    LocationException,
    LocationTranslation,
    SearchEvent,
    SearchSynonym,
    SelfServiceSession,
    Section,
    SectionTranslation,
    TranslationStatus,
)
from tests.factories import ContactFactory, OrganizationFactory, TenantOwnedFactory, UserFactory

SAME_TENANT = factory.SelfAttribute("..tenant")


class HelpCenterSettingsFactory(TenantOwnedFactory):
    class Meta:
        model = HelpCenterSettings
        django_get_or_create = ("tenant",)

    locales = ["en", "tr"]


class CategoryFactory(TenantOwnedFactory):
    class Meta:
        model = Category

    position = factory.Sequence(int)


class CategoryTranslationFactory(TenantOwnedFactory):
    class Meta:
        model = CategoryTranslation

    category = factory.SubFactory(CategoryFactory, tenant=SAME_TENANT)
    locale = "en"
    name = factory.Sequence(lambda n: f"Category {n}")


class SectionFactory(TenantOwnedFactory):
    class Meta:
        model = Section

    category = factory.SubFactory(CategoryFactory, tenant=SAME_TENANT)
    position = factory.Sequence(int)


class SectionTranslationFactory(TenantOwnedFactory):
    class Meta:
        model = SectionTranslation

    section = factory.SubFactory(SectionFactory, tenant=SAME_TENANT)
    locale = "en"
    name = factory.Sequence(lambda n: f"Section {n}")


class LabelFactory(TenantOwnedFactory):
    class Meta:
        model = Label

    name = factory.Sequence(lambda n: f"label-{n}")


class ArticleFactory(TenantOwnedFactory):
    class Meta:
        model = Article

    section = factory.SubFactory(SectionFactory, tenant=SAME_TENANT)
    position = factory.Sequence(int)


class ArticleTranslationFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleTranslation

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    locale = "en"
    title = factory.Sequence(lambda n: f"How do I do thing number {n}?")
    body_html = "<p>Like this.</p>"
    body_text = "Like this."
    status = TranslationStatus.PUBLISHED


class ArticleVersionFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleVersion

    translation = factory.SubFactory(ArticleTranslationFactory, tenant=SAME_TENANT)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.SelfAttribute("translation.title")
    body_html = "<p>Like this.</p>"


class ArticleOrganizationFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleOrganization

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    organization = factory.SubFactory(OrganizationFactory, tenant=SAME_TENANT)


class ArticleLabelFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleLabel

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    label = factory.SubFactory(LabelFactory, tenant=SAME_TENANT)


class ArticleAttachmentFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleAttachment

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    file = factory.django.FileField(filename="guide.txt", data=b"hello")
    filename = "guide.txt"
    content_type = "text/plain"
    size = 5


class ArticleVoteFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleVote

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    locale = "en"
    helpful = True
    voter_key = factory.Sequence(lambda n: f"session:{n:040d}")
    comment = "Helped a lot, thanks for writing this down"


class SelfServiceSessionFactory(TenantOwnedFactory):
    class Meta:
        model = SelfServiceSession

    key = factory.Sequence(lambda n: f"session-key-{n:020d}")


class SearchEventFactory(TenantOwnedFactory):
    class Meta:
        model = SearchEvent

    session = factory.SubFactory(SelfServiceSessionFactory, tenant=SAME_TENANT)
    query = factory.Sequence(lambda n: f"how to reset my password number {n}")
    normalized_query = factory.SelfAttribute("query")
    locale = "en"
    source = "portal"


class ArticleViewFactory(TenantOwnedFactory):
    class Meta:
        model = ArticleView

    article = factory.SubFactory(ArticleFactory, tenant=SAME_TENANT)
    locale = "en"
    session = factory.SubFactory(SelfServiceSessionFactory, tenant=SAME_TENANT)
    contact = factory.SubFactory(ContactFactory, tenant=SAME_TENANT)


# --- service locations ------------------------------------------------------------------------


class LocationFactory(TenantOwnedFactory):
    name = factory.Sequence(lambda n: f"Store {n}")
    slug = factory.Sequence(lambda n: f"store-{n}")
    city = "İstanbul"
    postcode = "34710"
    country = "TR"
    latitude = 40.9903
    longitude = 29.0290
    timezone = "Europe/Istanbul"
    opening_hours = factory.LazyFunction(lambda: {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})

    class Meta:
        model = Location
        skip_postgeneration_save = True

    @factory.post_generation
    def indexed(obj, create, extracted, **kwargs):
        """The folded search text the services keep (name, city, postcode, address, services)."""
        if create:
            from helpdesk.tenancy.context import tenant_scope
            from knowledge.locations.services import search_text_of

            obj.search_text = search_text_of(obj, ())
            with tenant_scope(obj.tenant):
                Location.objects.filter(pk=obj.pk).update(search_text=obj.search_text)


class LocationTranslationFactory(TenantOwnedFactory):
    class Meta:
        model = LocationTranslation

    location = factory.SubFactory(LocationFactory, tenant=SAME_TENANT)
    locale = "tr"
    name = factory.Sequence(lambda n: f"Mağaza {n}")


class LocationExceptionFactory(TenantOwnedFactory):
    class Meta:
        model = LocationException

    location = factory.SubFactory(LocationFactory, tenant=SAME_TENANT)
    date = factory.Sequence(lambda n: dt.date(2030, 1, 1) + dt.timedelta(days=n))
    closed = True
    note = "Holiday"


# --- listening: content gaps and content health -----------------------------------------------


class ContentGapFactory(TenantOwnedFactory):
    class Meta:
        model = ContentGap

    locale = "en"
    key = factory.Sequence(lambda n: f"passw reset {n}")
    representative_query = factory.Sequence(lambda n: f"reset my password number {n}")
    search_count = 3
    no_result_count = 2


class ContentGapQueryFactory(TenantOwnedFactory):
    class Meta:
        model = ContentGapQuery

    gap = factory.SubFactory(ContentGapFactory, tenant=SAME_TENANT)
    locale = "en"
    normalized_query = factory.Sequence(lambda n: f"how do i reset my password {n}")
    search_count = 3
    no_result_count = 2


class ContentGapStateFactory(TenantOwnedFactory):
    class Meta:
        model = ContentGapState
        django_get_or_create = ("tenant",)


class ContentHealthNoticeFactory(TenantOwnedFactory):
    class Meta:
        model = ContentHealthNotice

    user = factory.SubFactory(UserFactory)
    week = factory.Sequence(lambda n: dt.date(2030, 1, 7) + dt.timedelta(weeks=n))


class SearchSynonymFactory(TenantOwnedFactory):
    class Meta:
        model = SearchSynonym

    locale = "en"
    terms = factory.Sequence(lambda n: [f"refund {n}", f"money back {n}"])
