"""``/console/notifications/``: the person's notifications and their preferences. Thin."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from helpdesk.console.views.base import ConsoleView
from helpdesk.tenancy.roles import Cap
from tickets.automation.notifications import (
    notification_mark_read,
    notification_preferences,
    notification_preferences_set,
)
from tickets.models import Notification, NotificationKind

LIST_LIMIT = 50


class NotificationsView(ConsoleView):
    capability = Cap.CONSOLE_ACCESS
    template_name = "console/notifications/list.html"

    def get(self, request):
        items = list(Notification.objects.filter(tenant=self.tenant, user=request.user)
                     .select_related("ticket").order_by("-created_at", "-id")[:LIST_LIMIT])
        return TemplateResponse(request, self.template_name, {
            "notifications": items,
            "unread": sum(1 for n in items if n.read_at is None),
            "preferences": notification_preferences(tenant=self.tenant, user=request.user),
        })

    def post(self, request):
        if request.POST.get("action") == "read_all":
            notification_mark_read(tenant=self.tenant, user=request.user)
            messages.success(request, _("All notifications are marked read."))
        else:
            # Unchecked boxes are absent from the form: every kind is sent, on or off.
            rows = [{"kind": kind, "in_console": f"in_console_{kind}" in request.POST,
                     "by_email": f"by_email_{kind}" in request.POST} for kind in NotificationKind.values]
            notification_preferences_set(tenant=self.tenant, user=request.user, preferences=rows)
            messages.success(request, _("Your notification preferences were saved."))
        return HttpResponseRedirect(reverse("notifications:list"))
