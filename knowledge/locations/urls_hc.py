"""Help-center routes of service locations (included by ``knowledge.urls``, namespace ``helpcenter``)."""
from django.urls import path

from knowledge.views import locations as pages

urlpatterns = [
    path("locations/", pages.LocationListView.as_view(), name="locations"),
    path("locations/<slug:slug>/", pages.LocationDetailView.as_view(), name="location"),
]
