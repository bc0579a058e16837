"""Console routes of service locations (included by ``knowledge.console_urls``, namespace ``kb``)."""
from django.urls import path

from knowledge.views import locations_console as console

urlpatterns = [
    path("locations/", console.LocationListView.as_view(), name="locations"),
    path("locations/new/", console.LocationCreateView.as_view(), name="location_new"),
    path("locations/imports/", console.LocationImportView.as_view(), name="locations_imports"),
    path("locations/imports/<int:pk>/", console.LocationImportDetailView.as_view(), name="locations_import"),
    path("locations/imports/<int:pk>/status/", console.LocationImportStatusView.as_view(),
         name="locations_import_status"),
    path("locations/<int:pk>/", console.LocationUpdateView.as_view(), name="location_edit"),
    path("locations/<int:pk>/delete/", console.LocationDeleteView.as_view(), name="location_delete"),
]
