"""Connector channels over HTTP: the bridge's inbound endpoint, the signed links it
fetches reply attachments from, and the delivery state of replies per ticket. Thin.

- ``POST /api/v1/channels/{key}/messages/`` (``Authorization: Bearer <channel secret>``):
  one inbound message, validated strictly (400 names the fields; nothing is stored), then
  stored and answered 202; the same ``external_id`` again answers 200 with the first one.
- ``GET /api/v1/channels/{key}/attachments/{token}/``: a reply's attachment, for the
  bridge, by a signed link that expires (no session, no API key).
- ``GET /api/v1/tickets/{id}/deliveries/``: where the ticket's replies went and how.
"""
from __future__ import annotations

import base64
import binascii
import codecs
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_hub.api.views import authenticated_channel
from channels_hub.models import ChannelKind, ConnectorDelivery, ConnectorInbound
from channels_hub.services import connector as connector_services
from channels_hub.services.channels import channel_by_key
from helpdesk.api import parsers as api_parsers
from helpdesk.api.pagination import CursorPagination
from helpdesk.api.serializers import StrictInputSerializer
from helpdesk.api.viewsets import TenantScopedMixin
from helpdesk.people.models import IdentityKind
from helpdesk.people.services import clean_identity
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.roles import Scope
from tickets.downloads import attachment_download
from tickets.models import Ticket
from tickets.services import attachments as attachment_services
from tickets.services.content import MAX_BODY_CHARS

_NOT_FOUND = OpenApiResponse(description="No such channel (or ticket) in this tenant.")
_INVALID = OpenApiResponse(description="Invalid input: the error body lists the fields. Nothing was stored.")


# --- parsing -------------------------------------------------------------------------------

class ConnectorJSONParser(api_parsers.JSONParser):
    """The API's hardened JSON parser (same checks, same errors) with room for one base64
    attachment at the ticket attachment limit (``connector.max_request_bytes()``) instead
    of the general ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = connector_services.max_request_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if length > limit:
            raise api_parsers.RequestTooLarge()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise exceptions.ParseError(_("Unknown character set: %(charset)s") % {"charset": encoding}) from None
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise api_parsers.RequestTooLarge()
        try:
            data = json.loads(raw.decode(encoding), parse_constant=api_parsers._refuse_constant)
            api_parsers._check_storable_strings(data)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(_("The body is not valid JSON: %(error)s") % {
                "error": api_parsers._describe(exc)}) from None
        return data


# --- serializers ---------------------------------------------------------------------------

class TextField(serializers.CharField):
    """Text only: DRF's CharField would turn 42 or true into "42" and "True"."""

    default_error_messages = {"not_text": gettext_lazy("Send text (a JSON string).")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)


class SenderInput(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices,  # every kind of identity a contact can have
                                   help_text=gettext_lazy("phone (E.164 or international), social (a handle), "
                                                          "email, or external (the platform's user id)."))
    value = TextField(max_length=320)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    provider = serializers.CharField(max_length=50, required=False, allow_blank=True, help_text=gettext_lazy(
        "The platform of a social or external identity; the channel's platform when left out."))

    def validate(self, attrs: dict) -> dict:
        try:
            clean_identity(attrs["kind"], attrs["value"], attrs.get("provider", ""))
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class AttachmentInput(StrictInputSerializer):
    filename = serializers.CharField(max_length=255)
    content_type = serializers.CharField(max_length=150, required=False, allow_blank=True)
    content_base64 = TextField(required=False, trim_whitespace=False, help_text=gettext_lazy(
        "The file, base64 encoded; size and type limits of ticket attachments apply."))
    url = serializers.URLField(max_length=2000, required=False, help_text=gettext_lazy(
        "A link to the file. It is not downloaded: the agent sees the link."))

    def validate(self, attrs: dict) -> dict:
        has_content, has_url = "content_base64" in attrs, "url" in attrs
        if has_content == has_url:
            raise serializers.ValidationError(
                {"content_base64": [_("Send either content_base64 or url, not both and not neither.")]})
        if not has_content:
            return attrs
        encoded = "".join(attrs["content_base64"].split())
        limit = attachment_services.max_bytes()
        if len(encoded) * 3 // 4 > limit + 3:
            raise serializers.ValidationError({"content_base64": [
                _("The file is larger than the limit of %(limit)d bytes.") % {"limit": limit}]})
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError({"content_base64": [_("Not valid base64.")]}) from None
        upload = connector_services._Upload(content, name=attrs["filename"],
                                            content_type=attrs.get("content_type", ""))
        try:
            attachment_services.check_upload(upload)
        except ValidationError as exc:
            raise serializers.ValidationError(
                {"content_base64": [m for messages in exc.message_dict.values() for m in messages]}) from None
        attrs["content_base64"] = encoded
        return attrs


class InboundMessageInput(StrictInputSerializer):
    external_id = serializers.CharField(max_length=connector_services.EXTERNAL_ID_MAX, help_text=gettext_lazy(
        "The platform's id of this message: sending it again is not a duplicate."))
    conversation_id = serializers.CharField(max_length=255, help_text=gettext_lazy(
        "The platform's conversation (chat, thread, post): its messages continue one ticket."))
    sender = SenderInput()
    text = TextField(max_length=MAX_BODY_CHARS, required=False, allow_blank=True, trim_whitespace=False)
    attachments = AttachmentInput(many=True, required=False)
    sent_at = serializers.DateTimeField(required=False)
    public = serializers.BooleanField(required=False, help_text=gettext_lazy(
        "A public post or mention: agents are warned that their reply will be public."))
    public_url = serializers.URLField(max_length=500, required=False, allow_blank=True)

    def validate_attachments(self, value: list) -> list:
        if len(value) > attachment_services.max_per_message():
            raise serializers.ValidationError(_("Attach at most %(max)d files to one message.") % {
                "max": attachment_services.max_per_message()})
        return value

    def validate(self, attrs: dict) -> dict:
        if not (attrs.get("text") or "").strip() and not attrs.get("attachments"):
            raise serializers.ValidationError({"text": [_("Send a text or at least one attachment.")]})
        return attrs


class ConnectorInboundOutput(serializers.ModelSerializer):
    class Meta:
        model = ConnectorInbound
        fields = ["id", "external_id", "conversation_id", "status", "error", "ticket_id", "ticket_message_id",
                  "received_at", "processed_at"]
        read_only_fields = fields


# What ``ConnectorDeliveryOutput`` reads, for ``only()`` (its own columns and the related ones).
DELIVERY_COLUMNS = ("id", "ticket_message_id", "channel_id", "channel__key", "channel__provider",
                    "conversation_id", "conversation__conversation_id", "conversation__is_public", "status",
                    "attempts", "response_status", "last_error", "external_id", "next_attempt_at", "sent_at",
                    "created_at")


class ConnectorDeliveryOutput(serializers.ModelSerializer):
    message_id = serializers.IntegerField(source="ticket_message_id")
    channel_key = serializers.CharField(source="channel.key")
    provider = serializers.CharField(source="channel.provider")
    conversation_id = serializers.CharField(source="conversation.conversation_id")
    public = serializers.BooleanField(source="conversation.is_public")

    class Meta:
        model = ConnectorDelivery
        fields = ["id", "message_id", "channel_key", "provider", "conversation_id", "public", "status", "attempts",
                  "response_status", "last_error", "external_id", "next_attempt_at", "sent_at", "created_at"]
        read_only_fields = fields


# --- views ---------------------------------------------------------------------------------

@extend_schema(
    summary="Deliver one inbound message to a connector channel",
    description=(
        "For bridges to SMS, WhatsApp, social networks and any other platform. Authenticate with "
        "`Authorization: Bearer <channel secret>`. The message is validated strictly (400 lists the fields; "
        "nothing is stored), stored, answered 202, and processed in the background: the sender is matched to a "
        "contact by identity (created when new), and the conversation continues one ticket (a closed one in its "
        "follow-up). The same `external_id` again answers 200 with the first message's record. Attachments are "
        "sent as `content_base64` (ticket attachment limits apply; the request may be at most one attachment at "
        "the size limit plus 1 MB); a `url` is never downloaded, it is shown to the agent as a link.\n\n"
        "Agents' public replies are POSTed to the channel's `webhook_url` as JSON `{type: \"message\", "
        "delivery_id, channel, provider, conversation_id, public, ticket: {id, number}, message: {id, text, html, "
        "created_at, attachments: [{filename, content_type, size, url}]}}` with `X-Signature: sha256=<hex "
        "HMAC-SHA256 of the body with the channel's signing secret>` and `X-Delivery-Id`. Answer 2xx (optionally "
        "JSON with the platform's `external_id`); 5xx, 408, 429 and timeouts are retried with backoff, other "
        "4xx fail the delivery at once. Attachment URLs work without credentials and expire."),
    request=InboundMessageInput, auth=[],
    responses={202: ConnectorInboundOutput, 200: ConnectorInboundOutput, 400: _INVALID,
               401: OpenApiResponse(description="Missing or wrong secret."), 404: _NOT_FOUND,
               413: OpenApiResponse(description="Request too large.")},
)
class ConnectorMessagesView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [ConnectorJSONParser]

    def get_authenticate_header(self, request: Request) -> str:
        # A missing or wrong secret is a 401 with a challenge (DRF makes it a 403 without one).
        return 'Bearer realm="channel"'

    def post(self, request: Request, key: str) -> Response:
        channel = authenticated_channel(request, key, ChannelKind.CONNECTOR)
        with tenant_scope(channel.tenant):
            data = InboundMessageInput(data=request.data)
            data.is_valid(raise_exception=True)
            inbound, created = connector_services.connector_inbound_store(channel=channel,
                                                                          data=dict(data.validated_data))
            return Response(ConnectorInboundOutput(inbound).data,
                            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


class ConnectorAttachmentView(View):
    """A reply's attachment for the bridge, by a signed, expiring link bound to the channel;
    like every attachment download: a file that never renders."""

    http_method_names = ["get"]

    def get(self, request, key: str, token: str) -> FileResponse:
        channel = channel_by_key(key, kind=ChannelKind.CONNECTOR)
        if channel is None:
            raise Http404
        with tenant_scope(channel.tenant):
            attachment = connector_services.attachment_from_link(channel=channel, token=token)
            if attachment is None:
                raise Http404
            return attachment_download(attachment)  # the same answer as every other download


class DeliveryPagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(
    summary="Where the ticket's replies went on its connector channel, newest first",
    description="One row per agent reply sent to the bridge: queued (with the last error while it is being "
                "retried), sent (with the platform's id when the bridge returned one) or failed (with the reason). "
                "Empty for tickets that do not continue a bridged conversation.",
    parameters=[OpenApiParameter("pk", int, OpenApiParameter.PATH, description="Ticket id.")],
    responses={200: ConnectorDeliveryOutput(many=True), 404: _NOT_FOUND},
)
class TicketDeliveriesView(TenantScopedMixin, GenericAPIView):
    model = Ticket
    scopes = {"GET": Scope.TICKETS_READ}
    filter_backends: list = []
    pagination_class = DeliveryPagination
    serializer_class = ConnectorDeliveryOutput
    lookup_value_regex = "[0-9]+"

    def get(self, request: Request, pk: int) -> Response:
        ticket = self.get_object()
        # The columns shown, no more: the channel's row holds its (encrypted) signing secret.
        rows = (ConnectorDelivery.objects.filter(tenant_id=ticket.tenant_id, ticket_message__ticket_id=ticket.pk)
                .select_related("channel", "conversation")
                .only(*DELIVERY_COLUMNS))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ConnectorDeliveryOutput(page, many=True).data)

