from django.apps import AppConfig
from django.core import checks


class ApiConfig(AppConfig):
    name = "helpdesk.api"
    label = "hdapi"
    verbose_name = "API"

    def ready(self) -> None:
        # drf-spectacular finds authentication extensions by their registration on import.
        from helpdesk.api import schema  # noqa: F401

        checks.register(check_api_settings)


def check_api_settings(app_configs=None, **kwargs):
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from helpdesk.api.throttles import parse_rate

    errors = []
    try:
        parse_rate(settings.API_RATE_LIMIT)
    except ImproperlyConfigured as exc:
        errors.append(checks.Error(str(exc), id="hdapi.E001"))
    if settings.API_IDEMPOTENCY_TTL_SECONDS <= 0:
        errors.append(checks.Error("API_IDEMPOTENCY_TTL_SECONDS must be positive", id="hdapi.E002"))
    return errors
