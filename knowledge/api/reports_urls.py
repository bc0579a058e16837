"""``/api/v1/kb/reports/…`` (included from ``knowledge.api.urls``)."""
from django.urls import path

from knowledge.api import reports

urlpatterns = [
    path("searches/", reports.SearchReportView.as_view(), name="kb-report-searches"),
    path("deflection/", reports.DeflectionReportView.as_view(), name="kb-report-deflection"),
    path("articles/", reports.ArticleReportView.as_view(), name="kb-report-articles"),
    path("gaps/", reports.GapReportView.as_view(), name="kb-report-gaps"),
]
