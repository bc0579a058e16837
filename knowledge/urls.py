"""The help center's pages, included at ``/hc/`` on tenant hosts (after the request portal's
own paths).

Clean URLs (names fixed in ``knowledge.links``): ``/hc/<locale>/articles/<id>-<slug>/`` and the
same for sections and categories. The locale segment only matches a language code
(``en``, ``tr``, ``pt-br``), so fixed paths such as ``/hc/locations/`` or ``/hc/requests/``
never collide with it; add fixed paths of other features anywhere in this list.
"""
from django.urls import include, path, register_converter

from knowledge.views import helpcenter, helpcenter_search

app_name = "helpcenter"


class LocaleConverter:
    """A lower-case language code: ``en``, ``tr``, ``pt-br`` (``knowledge.locales.LOCALE_RE``)."""

    regex = r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(LocaleConverter, "hclocale")

urlpatterns = [
    path("", helpcenter.RootView.as_view(), name="root"),
    path("", include("knowledge.locations.urls_hc")),
    path("sitemap.xml", helpcenter.SitemapView.as_view(), name="sitemap"),
    path("sitemap-<int:page>.xml", helpcenter.SitemapView.as_view(), name="sitemap_page"),
    path("article_attachments/<str:token>/<str:filename>", helpcenter.AttachmentView.as_view(),
         name="attachment"),
    path("<hclocale:locale>/", helpcenter.HomeView.as_view(), name="home"),
    path("<hclocale:locale>/categories/<int:pk>-<str:slug>/", helpcenter.CategoryView.as_view(), name="category"),
    path("<hclocale:locale>/categories/<int:pk>/", helpcenter.CategoryView.as_view(), name="category_short"),
    path("<hclocale:locale>/sections/<int:pk>-<str:slug>/", helpcenter.SectionView.as_view(), name="section"),
    path("<hclocale:locale>/sections/<int:pk>/", helpcenter.SectionView.as_view(), name="section_short"),
    path("<hclocale:locale>/articles/<int:pk>-<str:slug>/", helpcenter.ArticleView.as_view(), name="article"),
    path("<hclocale:locale>/articles/<int:pk>/", helpcenter.ArticleView.as_view(), name="article_short"),
    path("<hclocale:locale>/articles/<int:pk>/vote/", helpcenter.VoteView.as_view(), name="vote"),
    path("<hclocale:locale>/search/", helpcenter_search.SearchView.as_view(), name="search"),
    path("<hclocale:locale>/search/suggest.json", helpcenter_search.SuggestView.as_view(), name="suggest"),
]
