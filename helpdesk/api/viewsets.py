"""The one guarded base for tenant-scoped API views.

Subclasses set ``model`` and may implement ``safely_get_queryset(queryset)`` to narrow or
annotate the tenant's rows; overriding ``get_queryset``/``get_object`` is refused at class
creation (PostHog's rule), so no view can forget the tenant. Another tenant's object is
then a 404 by construction.
"""
from __future__ import annotations

from django.db import models
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

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


class TenantCrudViewSet(TenantGenericViewSet):
    """list / retrieve / create / partial_update / destroy where every write is one service call.

    Subclasses set ``output_serializer``, ``create_input`` and ``update_input`` (strict input
    serializers) and implement ``service_create(values)``, ``service_update(obj, values)`` and
    ``service_delete(obj)``; the schema is declared on the subclass (``extend_schema_view``).
    """

    output_serializer: type | None = None
    create_input: type | None = None
    update_input: type | None = None

    def service_create(self, values: dict):
        raise NotImplementedError

    def service_update(self, obj, values: dict):
        raise NotImplementedError

    def service_delete(self, obj) -> None:
        raise NotImplementedError

    def _valid(self, serializer_class) -> dict:
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.output_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.output_serializer(self.get_object()).data)

    def create(self, request, *args, **kwargs):
        obj = self.service_create(self._valid(self.create_input))
        return Response(self.output_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        obj = self.service_update(obj, self._valid(self.update_input))
        return Response(self.output_serializer(obj).data)

    def destroy(self, request, *args, **kwargs):
        self.service_delete(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
