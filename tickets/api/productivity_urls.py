"""Routes of saved views, macros, apply-macro and bulk updates (included by tickets/api/urls.py).

``tickets/bulk/`` and ``tickets/{id}/apply-macro/`` share the ``tickets`` prefix with
tickets-core's viewset: its lookup must be numeric (or this module included first), or
``tickets/bulk/`` would be read as a ticket id.
"""
from rest_framework.routers import SimpleRouter

from tickets.api.productivity_views import MacroViewSet, SavedViewViewSet, TicketProductivityViewSet

router = SimpleRouter()
router.register("views", SavedViewViewSet, basename="view")
router.register("macros", MacroViewSet, basename="macro")
router.register("tickets", TicketProductivityViewSet, basename="ticket-productivity")

urlpatterns = router.urls
