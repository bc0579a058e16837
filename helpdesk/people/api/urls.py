"""``/api/v1/`` routes of contacts and organizations (included from ``helpdesk.api.urls``).

``contacts/imports/`` is registered before ``contacts/``; contact ids are numeric, so the
two never read each other's paths anyway."""
from __future__ import annotations

from rest_framework.routers import SimpleRouter

from helpdesk.people.api import views

router = SimpleRouter()
router.register("contacts/imports", views.ImportJobViewSet, basename="contact-import")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("organizations", views.OrganizationViewSet, basename="organization")

urlpatterns = router.urls
