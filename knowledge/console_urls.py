"""The help center in the agent console, at ``/console/kb/``: content editing, reports, settings."""
from django.urls import include, path

from knowledge.views.console_search import ConsoleSearchView

app_name = "kb"

urlpatterns: list = [
    path("search.json", ConsoleSearchView.as_view(), name="search"),
    path("", include("knowledge.views.editor_urls")),
    path("", include("knowledge.answering_urls")),
    path("", include("knowledge.locations.urls_console")),
    path("reports/", include("knowledge.views.reports_urls")),
]
