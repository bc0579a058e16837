"""A mailbox's mail log: what came in (and what became of it) and what went out, with
"Process again" for mail that made no ticket and the original message as a download.

Administrators only, like the channel settings. The original is served as an attachment
(``message/rfc822``, ``nosniff``): nothing a sender wrote is ever rendered here.
"""
from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic.detail import SingleObjectMixin

from channels_hub.models import ChannelKind, InboundEmail, InboundStatus
from channels_hub.services.inbound import inbound_process
from channels_hub.views import queries
from channels_hub.views.settings import ChannelObjectView, SettingsView
from helpdesk.console.views.base import TenantObjectMixin
from helpdesk.tenancy.context import tenant_scope

logger = logging.getLogger(__name__)

# Mail that made no ticket, or whose processing never finished: worth another try.
REPROCESSABLE = (InboundStatus.FAILED, InboundStatus.IGNORED, InboundStatus.RECEIVED)


class ChannelMailLogView(ChannelObjectView):
    """``?show=received`` (default) or ``?show=sent``; ``?cursor=`` pages to older mail."""

    def get(self, request, pk):
        channel = self.get_object()
        if channel.kind != ChannelKind.EMAIL:
            return HttpResponseRedirect(reverse("channels:edit", args=[pk]))
        show = "sent" if request.GET.get("show") == "sent" else "received"
        cursor = request.GET.get("cursor", "")[:200]
        status = 200
        try:
            page = (queries.outbound_log if show == "sent" else queries.inbound_log)(channel=channel, cursor=cursor)
        except queries.InvalidCursor:
            page, status = queries.LogPage(rows=[], next_cursor=""), 400
        response = TemplateResponse(request, "console/channels/mail_log.html", {
            "channel": channel, "show": show, "page": page, "bad_cursor": status == 400,
            "from_start": bool(cursor), "reprocessable": REPROCESSABLE,
        }, status=status)
        response["Cache-Control"] = "private, no-store"
        return response


class InboundObjectView(TenantObjectMixin, SettingsView, SingleObjectMixin):
    model = InboundEmail
    context_object_name = "inbound"


class InboundProcessView(InboundObjectView):
    """POST: process a stored mail again (``force``), in the tenant's scope."""

    def safely_get_queryset(self, queryset):
        return queryset.defer("raw")

    def get(self, request, pk):
        return HttpResponseRedirect(reverse("channels:mail_log", args=[self.get_object().channel_id]))

    def post(self, request, pk):
        inbound = self.get_object()
        back = reverse("channels:mail_log", args=[inbound.channel_id])
        if inbound.status not in REPROCESSABLE:
            messages.error(request, _("This mail was already processed."))
            return HttpResponseRedirect(back)
        try:
            with tenant_scope(self.tenant):
                done = inbound_process(inbound_id=inbound.pk, force=True)
        except Exception:  # recorded on the row by the service (error, attempts); the log shows it
            logger.warning("reprocessing inbound email %s failed", inbound.pk, exc_info=True)
            messages.error(request, _("Processing failed again; the error is shown in the log."))
            return HttpResponseRedirect(back)
        if done is None:
            messages.error(request, _("This mail is being processed right now; try again in a moment."))
        elif done.status == InboundStatus.PROCESSED and done.ticket_id:
            messages.success(request, _("Processed: it is now on ticket #%(number)s.")
                             % {"number": done.ticket.number})
        else:
            messages.info(request, _("Processed again: %(status)s.") % {
                "status": done.get_status_display() + (f" ({done.reason})" if done.reason else "")})
        return HttpResponseRedirect(back)


def eml_response(inbound: InboundEmail) -> HttpResponse:
    """The original message, byte for byte, as a download that no browser renders."""
    response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="mail-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class InboundRawView(InboundObjectView):
    def get(self, request, pk):
        return eml_response(self.get_object())
