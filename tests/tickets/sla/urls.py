"""The project's URLs with the SLA routes mounted first under /api/v1/, so these tests do
not depend on tickets/api/urls.py including them yet (the same views either way)."""
from django.urls import include, path

from helpdesk.urls import urlpatterns as project_urlpatterns
from tickets.api import sla_urls

urlpatterns = [
    path("api/v1/", include((sla_urls.urlpatterns, "sla_api"))),
    *project_urlpatterns,
]
