"""What an agent does on the ticket page: save properties, reply or note, assign to themselves,
apply a macro, log time, follow. Each parses the form, calls one service and redirects
(or, for the page's script, answers JSON); refusals re-render the page with a 4xx.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from helpdesk.console.views.base import no_access
from helpdesk.tenancy.roles import Cap
from tickets.models import Ticket, Via
from tickets.productivity.macros import macro_apply, macro_list
from tickets.services import (
    StaleTicket,
    TicketClosed,
    message_add,
    ticket_follow,
    ticket_unfollow,
    ticket_update,
    time_entry_add,
)
from tickets.views import queries
from tickets.views.detail import DRAFT_SESSION_KEY, TicketObjectView
from tickets.views.forms import MacroForm, PropertiesForm, ReplyForm, TimeEntryForm


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def detail_url(ticket: Ticket, anchor: str = "") -> str:
    return reverse("tickets:detail", kwargs={"number": ticket.number}) + (f"#{anchor}" if anchor else "")


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


class TicketActionView(TicketObjectView):
    http_method_names = ["post"]

    def refuse(self, ticket: Ticket, exc: Exception, *, status: int = 400, **forms):
        """Re-render the page with why the action was refused."""
        if isinstance(exc, ValidationError):
            notice = " ".join(_messages_of(exc))
        else:
            notice = str(exc)
        if wants_json(self.request):
            return JsonResponse({"error": {"message": notice}}, status=status)
        return self.render_ticket(self.detailed(ticket), status=status, notice=notice, **forms)

    def detailed(self, ticket: Ticket) -> Ticket:
        """The ticket again, as the page shows it (current state, everything prefetched)."""
        return self.get_object()


class TicketPropertiesView(TicketActionView):
    """The properties panel: only what differs from the ticket goes to ``ticket_update``."""

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        members, teams = queries.assignable_members(), queries.teams()
        reasons, fields = queries.contact_reasons(), queries.custom_fields()
        form = PropertiesForm(request.POST, ticket=ticket, members=members, teams=teams, reasons=reasons,
                              fields=fields)
        if not form.is_valid():
            return self.render_ticket(ticket, status=400, properties_form=form)
        changes = form.changes()
        if not changes:
            messages.info(request, _("Nothing to save: the properties are unchanged."))
            return HttpResponseRedirect(detail_url(ticket))
        users = {m.user_id: m.user for m in members}
        if "assignee" in changes:
            changes["assignee"] = users.get(changes["assignee"]) if changes["assignee"] else None
        if "team" in changes:
            changes["team"] = next((t for t in teams if t.pk == changes["team"]), None)
        if "contact_reason" in changes:
            changes["contact_reason"] = next((r for r in reasons if r.pk == changes["contact_reason"]), None)
        try:
            ticket_update(ticket=ticket, actor=request.user, via=Via.CONSOLE,
                          expected_version=form.cleaned_data["expected_version"], **changes)
        except StaleTicket as exc:
            current = self.get_object()
            data = request.POST.copy()
            data["expected_version"] = str(current.version)
            rebound = PropertiesForm(data, ticket=current, members=members, teams=teams, reasons=reasons,
                                     fields=fields)
            rebound.is_valid()
            return self.render_ticket(current, status=409, properties_form=rebound, notice=exc.message,
                                      new_ids=frozenset(m.pk for m in exc.newer_messages))
        except TicketClosed as exc:
            return self.refuse(ticket, exc, status=409)
        except ValidationError as exc:
            _attach_errors(form, exc)
            return self.render_ticket(self.get_object(), status=400, properties_form=form)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Ticket #%(number)s saved.") % {"number": ticket.number})
        return HttpResponseRedirect(detail_url(ticket))


def _attach_errors(form, exc: ValidationError) -> None:
    """Service errors onto the form's fields (``custom_fields.<key>`` -> ``cf_<key>``)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        name = f"cf_{key.split('.', 1)[1]}" if key.startswith("custom_fields.") else key
        form.add_error(name if name in form.fields else None, errors)


class TicketReplyView(TicketActionView):
    """A public reply or an internal note (light agents: notes only), with the stale-reply guard."""

    capability = Cap.TICKETS_NOTE

    def post(self, request, number):
        ticket = self.get_object()
        can_reply = self.can(Cap.TICKETS_REPLY)
        if request.POST.get("kind") == ReplyForm.PUBLIC and not can_reply:
            return no_access(request, reason="capability")
        form = ReplyForm(request.POST, request.FILES, can_reply=can_reply)
        if not form.is_valid():
            return self.render_ticket(ticket, status=400, reply_form=form)
        data = form.cleaned_data
        public = data["kind"] == ReplyForm.PUBLIC
        try:
            with transaction.atomic():
                message = message_add(ticket=ticket, actor=request.user, via=Via.CONSOLE, body=data["body"],
                                      public=public, attachments=data["attachments"],
                                      expected_version=data["expected_version"])
                if data["status"] and data["status"] != ticket.status:
                    ticket_update(ticket=ticket, actor=request.user, via=Via.CONSOLE, status=data["status"])
        except StaleTicket as exc:
            # Keep the draft; show what changed; the next send goes against the new version.
            current = self.get_object()
            post = request.POST.copy()
            post["expected_version"] = str(current.version)
            rebound = ReplyForm(post, can_reply=can_reply)
            rebound.is_valid()
            return self.render_ticket(current, status=409, reply_form=rebound, notice=exc.message,
                                      new_ids=frozenset(m.pk for m in exc.newer_messages))
        except TicketClosed as exc:
            return self.refuse(ticket, exc, status=409)
        except ValidationError as exc:
            for error in _messages_of(exc):
                form.add_error(None, error)
            return self.render_ticket(self.get_object(), status=400, reply_form=form)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        if public:
            messages.success(request, _("Your reply was sent."))
        else:
            messages.success(request, _("Your note was added."))
        return HttpResponseRedirect(detail_url(ticket, f"message-{message.pk}"))


class TicketAssignToMeView(TicketActionView):
    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        if ticket.assignee_id == request.user.pk:
            messages.info(request, _("This ticket is already assigned to you."))
            return HttpResponseRedirect(detail_url(ticket))
        try:
            ticket_update(ticket=ticket, actor=request.user, via=Via.CONSOLE, assignee=request.user)
        except TicketClosed as exc:
            return self.refuse(ticket, exc, status=409)
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Ticket #%(number)s is now assigned to you.") % {"number": ticket.number})
        return HttpResponseRedirect(detail_url(ticket))


class TicketMacroView(TicketActionView):
    """Apply a macro: its field changes are saved, its reply goes into the reply box.

    The page's script asks for JSON (the reply text, the new version and the refreshed
    properties panel); without the script the reply is kept as a draft for the next page.
    """

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = MacroForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, ValidationError(_("Choose a macro.")))
        macro = macro_list(user=request.user).filter(pk=form.cleaned_data["macro"]).first()
        if macro is None:
            return self.refuse(ticket, ValidationError(_("That macro does not exist or is not shared with you.")),
                               status=404)
        try:
            applied = macro_apply(ticket=ticket, macro=macro, actor=request.user, via=Via.CONSOLE,
                                  expected_version=form.cleaned_data.get("expected_version"))
        except StaleTicket as exc:
            return self.refuse(ticket, ValidationError(exc.message), status=409)
        except TicketClosed as exc:
            return self.refuse(ticket, exc, status=409)
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        reply = applied.reply
        if wants_json(request):
            current = self.get_object()
            return JsonResponse({
                "macro": macro.name,
                "reply": reply.text if reply else "",
                "public": reply.public if reply else None,
                "changed": applied.changed,
                "version": current.version,
                "status": current.status,
                "status_label": str(current.get_status_display()),
                "properties_html": self._properties_html(current),
            })
        if reply is not None:
            request.session[DRAFT_SESSION_KEY.format(pk=ticket.pk)] = {
                "body": reply.text, "kind": ReplyForm.PUBLIC if reply.public else ReplyForm.NOTE}
        messages.success(request, _("Macro “%(name)s” applied.") % {"name": macro.name})
        return HttpResponseRedirect(detail_url(ticket, "reply"))

    def _properties_html(self, ticket: Ticket) -> str:
        form = PropertiesForm(ticket=ticket, members=queries.assignable_members(), teams=queries.teams(),
                              reasons=queries.contact_reasons(), fields=queries.custom_fields())
        return render_to_string("console/tickets/_properties.html",
                                {"ticket": ticket, "properties_form": form, "can_edit": True, "closed": False},
                                request=self.request)


class TicketTimeView(TicketActionView):
    """Time spent: measured by the page (``source=auto``, sent every minute and on leaving)
    or entered by hand."""

    capability = Cap.TICKETS_NOTE

    def safely_get_queryset(self, queryset):
        return queryset  # posted every minute by open pages: only the row itself

    def detailed(self, ticket: Ticket) -> Ticket:
        return queries.with_detail(self.get_queryset()).get(pk=ticket.pk)

    def post(self, request, number):
        ticket = self.get_object()
        form = TimeEntryForm(request.POST)
        automatic = request.POST.get("source") == TimeEntryForm.AUTO
        if not form.is_valid():
            if automatic or wants_json(request):
                return JsonResponse({"error": {"fields": form.errors.get_json_data()}}, status=400)
            return self.render_ticket(self.detailed(ticket), status=400, time_form=form)
        try:
            time_entry_add(ticket=ticket, actor=request.user, via=Via.CONSOLE, seconds=form.total_seconds,
                           source=form.cleaned_data["source"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            if automatic or wants_json(request):
                return JsonResponse({"error": {"message": " ".join(_messages_of(exc))}}, status=400)
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        if automatic or wants_json(request):
            return HttpResponse(status=204)
        messages.success(request, _("Time logged."))
        return HttpResponseRedirect(detail_url(ticket, "time"))


class TicketFollowView(TicketActionView):
    capability = Cap.TICKETS_VIEW

    def post(self, request, number):
        ticket = self.get_object()
        action = request.POST.get("action")
        if action not in ("follow", "unfollow"):
            return self.refuse(ticket, ValidationError(_("Choose to follow or to stop following.")))
        try:
            if action == "follow":
                ticket_follow(ticket=ticket, user=request.user, actor=request.user, via=Via.CONSOLE)
                messages.success(request, _("You follow this ticket now."))
            else:
                ticket_unfollow(ticket=ticket, user=request.user, actor=request.user, via=Via.CONSOLE)
                messages.success(request, _("You no longer follow this ticket."))
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        return HttpResponseRedirect(detail_url(ticket))

