"""``/api/v1/``: each area registers its routes in its own ``api/urls.py``, included here."""
from django.urls import include, path

from helpdesk.api import views

app_name = "api"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("", include("helpdesk.events.api.urls")),
    path("", include("helpdesk.people.api_integrations")),
    path("", include("helpdesk.people.api.urls")),
    path("", include("tickets.api.urls")),
    path("", include("knowledge.api.urls")),
    path("", include("channels_hub.api.urls")),
]
