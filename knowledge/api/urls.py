"""``/api/v1/kb/…`` (and the locations' routes, added by their module)."""
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from knowledge.api.search import KbAutocompleteView, KbSearchView, SynonymViewSet
from knowledge.api.views import ArticleViewSet, CategoryViewSet, SectionViewSet

router = SimpleRouter()
router.register("kb/categories", CategoryViewSet, basename="kb-category")
router.register("kb/sections", SectionViewSet, basename="kb-section")
router.register("kb/articles", ArticleViewSet, basename="kb-article")
router.register("kb/synonyms", SynonymViewSet, basename="kb-synonym")

urlpatterns: list = [
    path("kb/search/", KbSearchView.as_view(), name="kb-search"),
    path("kb/autocomplete/", KbAutocompleteView.as_view(), name="kb-autocomplete"),
    *router.urls,
    path("", include("knowledge.locations.urls_api")),
    path("kb/reports/", include("knowledge.api.reports_urls")),
]
