"""Per-key rate limits in the cache (Redis in full mode); see the API plumbing work."""
from rest_framework.throttling import SimpleRateThrottle
from django.conf import settings


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        auth = getattr(request, "auth", None)
        if auth is not None and hasattr(auth, "prefix"):
            return f"throttle:key:{auth.prefix}"
        if request.user and request.user.is_authenticated and request.user.pk:
            return f"throttle:user:{request.user.pk}"
        return f"throttle:ip:{self.get_ident(request)}"
