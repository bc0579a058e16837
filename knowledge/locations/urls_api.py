"""API routes of service locations (included by ``knowledge.api.urls``): ``/api/v1/locations/``
(``location-list``, ``location-detail``) and ``/api/v1/locations/imports/``."""
from rest_framework.routers import SimpleRouter

from knowledge.api import locations as api

router = SimpleRouter()
router.register("locations/imports", api.LocationImportViewSet, basename="location-import")
router.register("locations", api.LocationViewSet, basename="location")

urlpatterns = [*router.urls]
