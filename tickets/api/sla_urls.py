"""Routes of business hours and SLA policies (included by tickets/api/urls.py)."""
from rest_framework.routers import SimpleRouter

from tickets.api.sla_views import BusinessHoursViewSet, SlaPolicyViewSet

router = SimpleRouter()
router.register("business-hours", BusinessHoursViewSet, basename="business-hours")
router.register("sla-policies", SlaPolicyViewSet, basename="sla-policy")

urlpatterns = router.urls
