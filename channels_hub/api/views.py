"""``/api/v1/channels/``: channels (create shows the secret once), and the inbound-mail hook
that an MTA or a cloud inbound-mail service POSTs raw messages to. Thin."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _, gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, parsers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_hub.api.serializers import (
    ChannelCreatedOutput,
    ChannelCreateInput,
    ChannelOutput,
    ChannelUpdateInput,
    InboundAccepted,
    SigningSecretOutput,
)
from channels_hub.models import Channel, ChannelKind, InboundSource
from channels_hub.services import channels as channel_services
from channels_hub.services.inbound import MessageTooLarge, inbound_store
from helpdesk.api.authentication import bearer_token
from helpdesk.api.parsers import RequestTooLarge
from helpdesk.api.viewsets import TenantGenericViewSet
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Scope

_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Channel id.")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields.")
_NOT_FOUND = OpenApiResponse(description="No such channel in this tenant.")


@extend_schema_view(
    list=extend_schema(summary="List channels", responses=ChannelOutput(many=True)),
    retrieve=extend_schema(summary="Get a channel", parameters=[_ID], responses={200: ChannelOutput, 404: _NOT_FOUND}),
    create=extend_schema(summary="Create a channel (the response shows its secret, once)",
                         request=ChannelCreateInput, responses={201: ChannelCreatedOutput, 400: _INVALID}),
    partial_update=extend_schema(summary="Change a channel", parameters=[_ID], request=ChannelUpdateInput,
                                 responses={200: ChannelOutput, 400: _INVALID, 404: _NOT_FOUND}),
    destroy=extend_schema(summary="Delete a channel", parameters=[_ID], responses={204: None, 404: _NOT_FOUND}),
)
class ChannelViewSet(TenantGenericViewSet):
    """Email mailboxes and connector channels. Passwords are write-only (stored encrypted);
    the secret is shown once, at creation or rotation, and stored as a hash."""

    model = Channel
    scopes = {"list": Scope.CHANNELS_READ, "retrieve": Scope.CHANNELS_READ, "create": Scope.CHANNELS_WRITE,
              "partial_update": Scope.CHANNELS_WRITE, "destroy": Scope.CHANNELS_WRITE,
              "rotate_secret": Scope.CHANNELS_WRITE, "rotate_signing_secret": Scope.CHANNELS_WRITE}
    lookup_value_regex = "[0-9]+"
    filter_backends: list = []
    serializer_class = ChannelOutput

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset().order_by("-created_at", "-id"))
        return self.get_paginated_response(ChannelOutput(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ChannelOutput(self.get_object()).data)

    def create(self, request: Request) -> Response:
        data = ChannelCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        kind = values.pop("kind")
        channel, secret = channel_services.channel_create(tenant=self.tenant, actor=request.user, kind=kind,
                                                          values=values)
        body = ChannelOutput(channel).data
        body["secret"] = secret
        if channel.kind == ChannelKind.CONNECTOR:
            body["signing_secret"] = channel.signing_secret  # shown once; signs the reply webhooks
        return Response(body, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        data = ChannelUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        channel = channel_services.channel_update(channel=channel, actor=request.user, values=data.validated_data)
        return Response(ChannelOutput(channel).data)

    def destroy(self, request: Request, pk: str) -> Response:
        channel_services.channel_delete(channel=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Replace the channel's secret (the response shows the new one, once)",
                   parameters=[_ID], request=None, responses={200: ChannelCreatedOutput, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        secret = channel_services.channel_rotate_secret(channel=channel, actor=request.user)
        return Response({**ChannelOutput(channel).data, "secret": secret})

    @extend_schema(summary="Replace a connector channel's signing secret (the response shows the new one, once)",
                   description="The reply webhooks are signed with it from now on (`X-Signature: sha256=<HMAC>`).",
                   parameters=[_ID], request=None,
                   responses={200: SigningSecretOutput, 400: _INVALID, 404: _NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="rotate-signing-secret")
    def rotate_signing_secret(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        try:
            signing_secret = channel_services.channel_rotate_signing_secret(channel=channel, actor=request.user)
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict) from None
        return Response({**ChannelOutput(channel).data, "signing_secret": signing_secret})


class RawMailParser(parsers.BaseParser):
    """The request body as bytes, refused with 413 above ``EMAIL_INBOUND_MAX_BYTES``."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = settings.EMAIL_INBOUND_MAX_BYTES
        request = (parser_context or {}).get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > limit:
            raise RequestTooLarge()
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestTooLarge()
        return data


class OctetStreamMailParser(RawMailParser):
    media_type = "application/octet-stream"


class ChannelSecretRequired(exceptions.AuthenticationFailed):
    default_detail = gettext_lazy("Send the channel's secret as 'Authorization: Bearer <secret>'.")
    default_code = "channel_secret_required"


def authenticated_channel(request: Request, key: str, kind: str) -> Channel:
    """The channel of ``key`` if the request carries its secret (401 otherwise; an unknown
    or inactive key is a 404)."""
    channel = channel_services.channel_by_key(key, kind=kind)
    if channel is None:
        raise exceptions.NotFound(_("No such channel."))
    if channel_services.channel_authenticate(key, bearer_token(request._request), kind=kind) is None:
        raise ChannelSecretRequired()
    return channel


@extend_schema(
    summary="Deliver one raw email to an email channel",
    description="The body is the message exactly as received (RFC 5322), `Content-Type: message/rfc822`, "
                "with `Authorization: Bearer <channel secret>`. The message is stored before this answers "
                "202 and is then processed in the background; sending the same message again is recognised "
                "as a duplicate.",
    request={"message/rfc822": bytes}, auth=[],
    responses={202: InboundAccepted, 400: _INVALID, 401: OpenApiResponse(description="Missing or wrong secret."),
               404: _NOT_FOUND, 413: OpenApiResponse(description="Message too large."),
               415: OpenApiResponse(description="Not message/rfc822.")},
)
class EmailInboundView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [RawMailParser, OctetStreamMailParser]

    def get_authenticate_header(self, request) -> str:
        return 'Bearer realm="channel"'  # makes a missing or wrong secret a 401, not a 403

    def post(self, request: Request, key: str) -> Response:
        channel = authenticated_channel(request, key, ChannelKind.EMAIL)
        raw = request.data
        if not isinstance(raw, bytes) or not raw.strip():
            raise exceptions.ValidationError({"message": [_("The message is empty.")]})
        with tenant_scope(channel.tenant):
            try:
                inbound = inbound_store(channel=channel, raw=raw, source=InboundSource.HOOK)
            except MessageTooLarge:
                raise RequestTooLarge() from None
            except ValidationError as exc:
                raise exceptions.ValidationError(exc.message_dict) from None
            return Response(InboundAccepted(inbound).data, status=status.HTTP_202_ACCEPTED)
