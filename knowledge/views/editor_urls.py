"""Routes of the help-center editor, included from ``knowledge.console_urls`` (namespace ``kb``)."""
from django.urls import path

from knowledge.views import editor_articles as articles
from knowledge.views import editor_history as history
from knowledge.views import editor_pages as pages
from knowledge.views import editor_synonyms as synonyms
from knowledge.views import editor_tree as tree

urlpatterns = [
    path("", tree.TreeView.as_view(), name="tree"),
    path("categories/new/", tree.CategoryCreateView.as_view(), name="category_new"),
    path("categories/<int:pk>/edit/", tree.CategoryEditView.as_view(), name="category_edit"),
    path("categories/<int:pk>/delete/", tree.CategoryDeleteView.as_view(), name="category_delete"),
    path("categories/<int:pk>/move/", tree.CategoryMoveView.as_view(), name="category_move"),
    path("sections/new/", tree.SectionCreateView.as_view(), name="section_new"),
    path("sections/<int:pk>/edit/", tree.SectionEditView.as_view(), name="section_edit"),
    path("sections/<int:pk>/delete/", tree.SectionDeleteView.as_view(), name="section_delete"),
    path("sections/<int:pk>/move/", tree.SectionMoveView.as_view(), name="section_move"),
    path("articles/new/", articles.ArticleCreateView.as_view(), name="article_new"),
    path("articles/<int:pk>/edit/", articles.ArticleEditView.as_view(), name="article_edit"),
    path("articles/<int:pk>/settings/", articles.ArticleSettingsView.as_view(), name="article_settings"),
    path("articles/<int:pk>/publish/", articles.TranslationPublishView.as_view(), name="translation_publish"),
    path("articles/<int:pk>/unschedule/", articles.TranslationUnscheduleView.as_view(),
         name="translation_unschedule"),
    path("articles/<int:pk>/unpublish/", articles.TranslationUnpublishView.as_view(), name="translation_unpublish"),
    path("articles/<int:pk>/flag/", articles.TranslationFlagView.as_view(), name="translation_flag"),
    path("articles/<int:pk>/translation/delete/", articles.TranslationDeleteView.as_view(),
         name="translation_delete"),
    path("articles/<int:pk>/delete/", articles.ArticleDeleteView.as_view(), name="article_delete"),
    path("articles/<int:pk>/move/", articles.ArticleMoveView.as_view(), name="article_move"),
    path("articles/<int:pk>/files/", articles.AttachmentUploadView.as_view(), name="attachment_upload"),
    path("articles/<int:pk>/history/", history.ArticleHistoryView.as_view(), name="article_history"),
    path("articles/<int:pk>/diff/", history.ArticleDiffView.as_view(), name="article_diff"),
    path("versions/<int:pk>/", history.VersionView.as_view(), name="version"),
    path("versions/<int:pk>/restore/", history.VersionRestoreView.as_view(), name="version_restore"),
    path("files/<int:pk>/delete/", articles.AttachmentDeleteView.as_view(), name="attachment_delete"),
    path("files/<str:token>/", articles.AttachmentDownloadView.as_view(), name="attachment"),
    path("review/", pages.ReviewQueueView.as_view(), name="review_queue"),
    path("translations/missing/", pages.MissingTranslationsView.as_view(), name="missing"),
    path("settings/", pages.HelpCenterSettingsView.as_view(), name="settings"),
    path("synonyms/", synonyms.SynonymListView.as_view(), name="synonyms"),
    path("synonyms/<int:pk>/", synonyms.SynonymEditView.as_view(), name="synonym_edit"),
    path("synonyms/<int:pk>/delete/", synonyms.SynonymDeleteView.as_view(), name="synonym_delete"),
]
