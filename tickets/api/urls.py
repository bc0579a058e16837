"""``/api/v1/`` routes of tickets. Other areas keep their routes in their own router modules
(``sla_urls``, ``productivity_urls``, ``automation_urls``), included here when present.

The productivity routes are included before the tickets viewset's: ``tickets/bulk/`` must
not be read as a ticket id (the ticket lookup is numeric anyway)."""
from __future__ import annotations

import importlib.util

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from tickets.api import config_views, views

router = SimpleRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("tags", config_views.TagViewSet, basename="tag")
router.register("custom-fields", config_views.CustomFieldViewSet, basename="custom-field")
router.register("contact-reasons", config_views.ContactReasonViewSet, basename="contact-reason")
router.register("teams", config_views.TeamViewSet, basename="team")
router.register("agents", config_views.AgentViewSet, basename="agent")

_AREAS = ("tickets.api.productivity_urls", "tickets.api.sla_urls", "tickets.api.automation_urls")

urlpatterns = [path("", include(module)) for module in _AREAS if importlib.util.find_spec(module) is not None]
urlpatterns += [
    path("ticket-settings/", config_views.TicketSettingsView.as_view(), name="ticket-settings"),
    path("attachments/<str:token>/", config_views.AttachmentDownloadView.as_view(), name="attachment-download"),
    *router.urls,
]
