"""The one guarded base for tenant-scoped API views.

Subclasses set ``model`` and may implement ``safely_get_queryset(queryset)`` to narrow or
annotate the tenant's rows; overriding ``get_queryset``/``get_object`` is refused at class
creation (PostHog's rule), so no view can forget the tenant. Another tenant's object is
then a 404 by construction.
"""
from __future__ import annotations

from django.db import models
from rest_framework import mixins, viewsets

from helpdesk.tenancy.context import require_tenant
from helpdesk.tenancy.models import TenantOwned

_GUARDED = ("get_queryset", "get_object", "queryset")


class TenantScopedMixin:
    model: type[TenantOwned] | None = None
    # action/method -> scope, see HasTenantScope.
    scopes: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _GUARDED:
            if name in cls.__dict__ and not cls.__dict__.get("dangerously_allow_override", False):
                raise TypeError(
                    f"{cls.__name__} overrides {name}; implement safely_get_queryset() instead"
                )

    def safely_get_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self) -> models.QuerySet:
        tenant = require_tenant()
        if self.model is None or not issubclass(self.model, TenantOwned):
            raise TypeError(f"{type(self).__name__}.model must be a TenantOwned model")
        queryset = self.model.objects.filter(tenant=tenant)
        return self.safely_get_queryset(queryset)

    @property
    def tenant(self):
        return require_tenant()


class TenantGenericViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    pass


class TenantReadOnlyViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    pass
