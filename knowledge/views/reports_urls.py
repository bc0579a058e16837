"""Routes of the listening reports, included at ``/console/kb/reports/`` (namespace ``kb``)."""
from django.urls import path

from knowledge.views import reports

urlpatterns = [
    path("", reports.ReportsOverviewView.as_view(), name="reports"),
    path("searches/", reports.SearchesReportView.as_view(), name="reports_searches"),
    path("articles/", reports.ArticlesReportView.as_view(), name="reports_articles"),
    path("gaps/", reports.GapListView.as_view(), name="reports_gaps"),
    path("gaps/refresh/", reports.GapRefreshView.as_view(), name="reports_gaps_refresh"),
    path("gaps/<int:pk>/", reports.GapDetailView.as_view(), name="reports_gap"),
    path("gaps/<int:pk>/draft/", reports.GapDraftView.as_view(), name="reports_gap_draft"),
    path("gaps/<int:pk>/dismiss/", reports.GapDismissView.as_view(), name="reports_gap_dismiss"),
    path("health/", reports.HealthView.as_view(), name="reports_health"),
]
