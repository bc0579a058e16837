from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import include, path, re_path, reverse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk import probes
from helpdesk.api.errors import api_not_found



def root(request):
    """A tenant's host opens on its help center (``/hc/`` picks the visitor's language, or sends
    to the request form or the console when the help center is off); the platform's bare
    domain opens the console."""
    if getattr(request, "tenant", None) is not None and not getattr(request, "is_platform_host", True):
        return HttpResponseRedirect("/hc/")
    return HttpResponseRedirect(reverse("console:home"))


urlpatterns = [
    path("", root, name="root"),
    path("healthz", probes.healthz, name="healthz"),
    path("", include("knowledge.robots_urls")),
    path("readyz", probes.readyz, name="readyz"),
    path("api/v1/", include("helpdesk.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Anything else under /api/ is a JSON 404 (after every API route above).
    re_path(r"^api/", api_not_found),
    path("console/tickets/", include("tickets.urls")),
    path("console/notifications/", include("tickets.automation.urls")),
    path("console/channels/", include("channels_hub.urls")),
    path("console/", include("helpdesk.console.urls")),
    path("admin/", admin.site.urls),
    # The request portal's own paths (sign-in, account, requests); the help center takes the rest of /hc/.
    path("hc/", include("channels_hub.portal.urls")),
    path("hc/", include("knowledge.urls")),
    path("console/kb/", include("knowledge.console_urls")),
]
