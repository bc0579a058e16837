from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.authentication import granted_scopes
from helpdesk.tenancy.context import require_tenant
from helpdesk.tenancy.roles import Scope


class MeView(APIView):
    """Who the credentials belong to: the tenant and the scopes they carry."""

    scopes = {"GET": Scope.ACCOUNT_READ}

    @extend_schema(responses=inline_serializer("Me", {
        "tenant": inline_serializer("MeTenant", {"slug": serializers.CharField(), "name": serializers.CharField()}),
        "scopes": serializers.ListField(child=serializers.CharField()),
        "kind": serializers.CharField(),
    }))
    def get(self, request):
        tenant = require_tenant()
        return Response({
            "tenant": {"slug": tenant.slug, "name": tenant.name},
            "scopes": sorted(granted_scopes(request)),
            "kind": "api_key" if request.user.pk is None else "session",
        })
