"""``/api/v1/integrations/``: customer data integrations (the requester card's shop/CRM panel).

Administrators' settings: every action needs ``settings:write``. The signing secret is
write-only: it is taken on create and change and never returned (``has_secret`` says
whether one is set). Thin: validate, call ``helpdesk.people.integrations``, serialize.
"""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from helpdesk.api.pagination import CursorPagination
from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.api.viewsets import TenantCrudViewSet
from helpdesk.audit.services import request_meta
from helpdesk.people import integrations
from helpdesk.people.models import Contact, CustomerDataIntegration
from helpdesk.tenancy.roles import Scope

# --- shapes ---------------------------------------------------------------------------------

_URL_HELP = _("The helpdesk POSTs the contact here: http or https, on the public internet.")
_SECRET_HELP = _("Signing secret (at least 16 characters) for X-Helpdesk-Signature. Write-only: never returned.")


class IntegrationCreateInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    url = serializers.CharField(max_length=500, help_text=_URL_HELP)
    secret = serializers.CharField(min_length=integrations.SECRET_MIN_LENGTH, max_length=200, trim_whitespace=False,
                                   write_only=True, help_text=_SECRET_HELP)
    timeout_ms = serializers.IntegerField(required=False, min_value=integrations.MIN_TIMEOUT_MS,
                                          max_value=integrations.MAX_TIMEOUT_MS)
    cache_seconds = serializers.IntegerField(required=False, min_value=0, max_value=integrations.MAX_CACHE_SECONDS)
    is_active = serializers.BooleanField(required=False)


class IntegrationUpdateInput(StrictInputSerializer):
    name = serializers.CharField(required=False, max_length=100)
    url = serializers.CharField(required=False, max_length=500, help_text=_URL_HELP)
    secret = serializers.CharField(required=False, min_length=integrations.SECRET_MIN_LENGTH, max_length=200,
                                   trim_whitespace=False, write_only=True, help_text=_SECRET_HELP)
    timeout_ms = serializers.IntegerField(required=False, min_value=integrations.MIN_TIMEOUT_MS,
                                          max_value=integrations.MAX_TIMEOUT_MS)
    cache_seconds = serializers.IntegerField(required=False, min_value=0, max_value=integrations.MAX_CACHE_SECONDS)
    is_active = serializers.BooleanField(required=False)


class IntegrationOutput(serializers.ModelSerializer):
    has_secret = serializers.SerializerMethodField(help_text=_("Whether a signing secret is set."))

    class Meta:
        model = CustomerDataIntegration
        fields = ["id", "name", "url", "timeout_ms", "cache_seconds", "is_active", "has_secret", "created_at"]
        read_only_fields = fields

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class IntegrationTestInput(StrictInputSerializer):
    contact = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                       help_text=_("A contact id; without it a made-up sample contact is sent."))


class IntegrationTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    panel = serializers.JSONField(allow_null=True, help_text=_("The normalised answer (title, sections)."))
    reason = serializers.CharField(help_text=_("Why it failed, as a code (timeout, http_status, bad_json, …)."))
    detail = serializers.CharField()
    duration_ms = serializers.IntegerField()


# --- the endpoint ---------------------------------------------------------------------------

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Integration id.")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="No such integration in this tenant.")


class IntegrationPagination(CursorPagination):
    ordering = ("name", "id")
    page_size = 100


@extend_schema_view(
    list=extend_schema(summary="List customer data integrations", responses=IntegrationOutput(many=True)),
    retrieve=extend_schema(summary="Get an integration", parameters=[_ID],
                           responses={200: IntegrationOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Add an integration", request=IntegrationCreateInput,
                         responses={201: IntegrationOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change an integration", parameters=[_ID], request=IntegrationUpdateInput,
                                 responses={200: IntegrationOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete an integration", parameters=[_ID], responses={204: None, 404: _NOT_FOUND}),
)
class IntegrationViewSet(TenantCrudViewSet):
    """Your shop or CRM, asked about the requester when an agent opens a ticket.

    The helpdesk POSTs `{"contact": {"id", "name", "identities": [{"kind", "provider",
    "value"}], "organization"}}`; `X-Helpdesk-Signature` is `sha256=` + the hex
    HMAC-SHA256 of `"<X-Helpdesk-Timestamp>.<raw body>"` with the secret. Answer with JSON
    (at most 256 KB): `{"title", "sections": [{"title", "fields": [{"label", "value", "url"}],
    "table": {"columns": [...], "rows": [[...]]}}]}`; 404 means an unknown customer.
    """

    model = CustomerDataIntegration
    scopes = {name: Scope.SETTINGS_WRITE
              for name in ("list", "retrieve", "create", "partial_update", "destroy", "test")}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    pagination_class = IntegrationPagination
    serializer_class = IntegrationOutput

    output_serializer = IntegrationOutput
    create_input = IntegrationCreateInput
    update_input = IntegrationUpdateInput

    def service_create(self, values):
        return integrations.integration_create(tenant=self.tenant, actor=self.request.user,
                                               audit_meta=request_meta(self.request), **values)

    def service_update(self, integration, values):
        return integrations.integration_update(integration=integration, actor=self.request.user,
                                               audit_meta=request_meta(self.request), **values)

    def service_delete(self, integration):
        integrations.integration_delete(integration=integration, actor=self.request.user,
                                        audit_meta=request_meta(self.request))

    @extend_schema(summary="Call an integration now (no cache) and see what agents would see",
                   parameters=[_ID], request=IntegrationTestInput,
                   responses={200: IntegrationTestOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        integration = self.get_object()
        values = self._valid(IntegrationTestInput)
        contact = None
        if values.get("contact"):
            contact = get_object_or_404(Contact.objects.filter(tenant=self.tenant)
                                        .select_related("organization").prefetch_related("identities"),
                                        pk=values["contact"])
        result = integrations.integration_test(integration=integration, contact=contact)
        return Response(IntegrationTestOutput({
            "ok": result.ok, "panel": result.panel, "reason": result.reason, "detail": result.detail,
            "duration_ms": result.duration_ms,
        }).data)


router = SimpleRouter()
router.register("integrations", IntegrationViewSet, basename="integration")

urlpatterns = router.urls
