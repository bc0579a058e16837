"""Routes of triggers, automations and notifications (included by tickets/api/urls.py)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from tickets.api.automation_views import (
    AutomationViewSet,
    NotificationPreferencesView,
    NotificationViewSet,
    TriggerViewSet,
)

router = SimpleRouter()
router.register("triggers", TriggerViewSet, basename="trigger")
router.register("automations", AutomationViewSet, basename="automation")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("notification-preferences/", NotificationPreferencesView.as_view(), name="notification-preferences"),
    *router.urls,
]
