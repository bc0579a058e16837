"""The project's URLs plus the probe endpoint (see ``probe``)."""
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from helpdesk.urls import urlpatterns as project_urlpatterns
from tests.core.api.probe import ProbeViewSet

router = SimpleRouter()
router.register("_probe", ProbeViewSet, basename="probe")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    *project_urlpatterns,
]
