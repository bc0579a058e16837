"""ASGI entry: HTTP through Django, websockets through Channels (session-authenticated)."""
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from helpdesk.routing import websocket_urlpatterns  # noqa: E402

# Everything imported so far lives as long as the process: move it out of the collector's
# generations, so full collections stop rescanning it in the middle of requests
# (bench/tickets.py --gc-freeze: ticket-list p95 at 100,000 tickets 140 ms -> 60-77 ms).
gc.collect()
gc.freeze()

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
