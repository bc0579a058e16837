"""Console routes under ``/console/notifications/`` (namespace ``notifications``)."""
from django.urls import path

from tickets.automation.views import NotificationsView

app_name = "notifications"

urlpatterns = [
    path("", NotificationsView.as_view(), name="list"),
]
