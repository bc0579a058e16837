"""The ticket page's relation actions: merge into another ticket, split a message off into a
new ticket, link and unlink a related ticket, copy (CC) people, side conversations. Each is a
small POST form that calls one service.

The other ticket is named by its number and looked up in the tenant's own tickets, so
another tenant's number is "no such ticket" (a 400 with a notice), never a merge. Messages,
links and side conversations are looked up within this ticket, so an id from another ticket
(or another tenant) is refused and nothing changes.
"""
from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.tenancy.roles import Cap
from tickets.models import (
    Message,
    MessageKind,
    SideConversation,
    SideConversationKind,
    Ticket,
    TicketCC,
    TicketLink,
    Via,
)
from tickets.services import (
    TicketClosed,
    contact_for_email,
    side_conversation_close,
    side_conversation_create,
    side_conversation_reply,
    ticket_cc_add,
    ticket_cc_remove,
    ticket_link,
    ticket_merge,
    ticket_split,
    ticket_unlink,
)
from tickets.views.actions import TicketActionView, detail_url
from tickets.views.forms import MAX_BODY, MultipleFileField

MAX_NUMBER = 2**31 - 1
MAX_ID = 2**63 - 1


class TicketNumberField(forms.CharField):
    """``1042`` or ``#1042``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value).strip().lstrip("#").strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_NUMBER:
            raise ValidationError(_("Enter a ticket number, such as 1042."))
        return int(text)


class MergeForm(forms.Form):
    target = TicketNumberField(label=gettext_lazy("Merge into ticket number"))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class LinkForm(forms.Form):
    target = TicketNumberField(label=gettext_lazy("Related ticket number"))


class CCForm(forms.Form):
    ADD, REMOVE = "add", "remove"

    action = forms.ChoiceField(choices=[(ADD, ADD), (REMOVE, REMOVE)])
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    contact = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False)

    def clean(self):
        data = super().clean()
        if data.get("action") == self.ADD and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter the email address to copy."))
        if data.get("action") == self.REMOVE and not data.get("contact") and "contact" not in self.errors:
            self.add_error("contact", _("Choose whom to remove."))
        return data


def _id_field(error) -> forms.IntegerField:
    """A row id from a hidden input: anything but a positive bigint is ``error``."""
    return forms.IntegerField(min_value=1, max_value=MAX_ID, error_messages={
        key: error for key in ("required", "invalid", "min_value", "max_value")})


class SplitForm(forms.Form):
    message = _id_field(gettext_lazy("Choose the message to split off."))
    subject = forms.CharField(label=gettext_lazy("Subject of the new ticket"), max_length=250, required=False)


class UnlinkForm(forms.Form):
    link = _id_field(gettext_lazy("Choose the link to remove."))


class SideConversationForm(forms.Form):
    """A new side conversation. The service validates the subject, the addresses and the body;
    this form only bounds and parses what the browser sends."""

    kind = forms.ChoiceField(choices=SideConversationKind.choices, error_messages={
        key: gettext_lazy("Choose agents only or an email thread.") for key in ("required", "invalid_choice")})
    subject = forms.CharField(max_length=250, required=False)
    participants = forms.CharField(max_length=5000, required=False)
    body = forms.CharField(max_length=MAX_BODY, required=False)
    attachments = MultipleFileField()

    def clean_participants(self) -> list[str]:
        """``"a@x.example, b@y.example"`` (commas, semicolons, spaces or new lines between)."""
        return [part for part in re.split(r"[\s,;]+", self.cleaned_data["participants"]) if part]


class SideReplyForm(forms.Form):
    body = forms.CharField(max_length=MAX_BODY, required=False)
    attachments = MultipleFileField()


def _form_notice(form: forms.Form) -> ValidationError:
    return ValidationError([str(e) for errors in form.errors.values() for e in errors])


def _other_ticket(number: int) -> Ticket | None:
    """The tenant's ticket with that number (the default manager is the tenant's)."""
    return Ticket.objects.filter(number=number).select_related("requester").first()


def _no_such_ticket(number: int) -> ValidationError:
    return ValidationError(_("There is no ticket #%(number)s in this helpdesk.") % {"number": number})


class TicketMergeView(TicketActionView):
    """Merge this ticket into the survivor: a first post shows what will happen, the
    confirmed post merges."""

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = MergeForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, _form_notice(form))
        target = _other_ticket(form.cleaned_data["target"])
        if target is None:
            return self.refuse(ticket, _no_such_ticket(form.cleaned_data["target"]))
        if target.pk == ticket.pk:
            return self.refuse(ticket, ValidationError(_("A ticket cannot be merged into itself.")))
        if not form.cleaned_data["confirm"]:
            return TemplateResponse(request, "console/tickets/merge_confirm.html",
                                    {"ticket": ticket, "target": target})
        try:
            ticket_merge(target=target, sources=[ticket], actor=request.user, via=Via.CONSOLE)
        except ValidationError as exc:  # TicketClosed too
            return self.refuse(ticket, exc, status=409 if isinstance(exc, TicketClosed) else 400)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Ticket #%(source)s was merged into #%(target)s.") % {
            "source": ticket.number, "target": target.number})
        return HttpResponseRedirect(detail_url(target))


class TicketLinkView(TicketActionView):
    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = LinkForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, _form_notice(form))
        target = _other_ticket(form.cleaned_data["target"])
        if target is None:
            return self.refuse(ticket, _no_such_ticket(form.cleaned_data["target"]))
        try:
            ticket_link(source=ticket, target=target, actor=request.user, via=Via.CONSOLE)
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Ticket #%(number)s is linked as related.") % {"number": target.number})
        return HttpResponseRedirect(detail_url(ticket))


class TicketCCView(TicketActionView):
    """Copy someone by email (the contact with that email identity, created if none) or
    remove a CC."""

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = CCForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, _form_notice(form))
        data = form.cleaned_data
        try:
            if data["action"] == CCForm.ADD:
                with transaction.atomic():
                    contact = contact_for_email(tenant=request.tenant, email=data["email"])
                    ticket_cc_add(ticket=ticket, contact=contact, actor=request.user, via=Via.CONSOLE)
                messages.success(request, _("%(email)s is copied on this ticket.") % {"email": data["email"]})
            else:
                cc = TicketCC.objects.filter(ticket=ticket, contact_id=data["contact"]).select_related("contact").first()
                if cc is None:
                    return self.refuse(ticket, ValidationError(_("That person is not copied on this ticket.")))
                ticket_cc_remove(ticket=ticket, contact=cc.contact, actor=request.user, via=Via.CONSOLE)
                messages.success(request, _("%(name)s is no longer copied.") % {"name": cc.contact})
        except ValidationError as exc:
            return self.refuse(ticket, exc, status=409 if isinstance(exc, TicketClosed) else 400)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        return HttpResponseRedirect(detail_url(ticket, "related"))


def _keep(response, **context):
    """A refusal re-renders the page: keep what the agent typed in the refused form."""
    if isinstance(response, TemplateResponse):
        response.context_data.update(context)
    return response


class TicketSplitView(TicketActionView):
    """Split one reply or note off into a new ticket of the same requester (linked as related)."""

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = SplitForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, _form_notice(form))
        message = (Message.objects.filter(ticket=ticket, pk=form.cleaned_data["message"],
                                          side_conversation__isnull=True)
                   .exclude(kind=MessageKind.SYSTEM).select_related("tenant", "author_contact").first())
        if message is None:
            return self.refuse(ticket, ValidationError(_("That message is not a reply or note of this ticket.")))
        try:
            new = ticket_split(message=message, actor=request.user, via=Via.CONSOLE,
                               subject=form.cleaned_data["subject"] or None)
        except ValidationError as exc:  # TicketClosed too
            return self.refuse(ticket, exc, status=409 if isinstance(exc, TicketClosed) else 400)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("The message was split off into ticket #%(number)s.") % {"number": new.number})
        return HttpResponseRedirect(detail_url(new))


class TicketUnlinkView(TicketActionView):
    """Remove a link of this ticket (whichever side it was made from)."""

    capability = Cap.TICKETS_EDIT

    def post(self, request, number):
        ticket = self.get_object()
        form = UnlinkForm(request.POST)
        if not form.is_valid():
            return self.refuse(ticket, _form_notice(form))
        link = (TicketLink.objects.filter(Q(source=ticket) | Q(target=ticket), pk=form.cleaned_data["link"])
                .select_related("tenant", "source", "target").first())
        if link is None:
            return self.refuse(ticket, ValidationError(_("That link is not one of this ticket's links.")))
        other = link.target if link.source_id == ticket.pk else link.source
        try:
            ticket_unlink(link=link, actor=request.user, via=Via.CONSOLE)
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Ticket #%(number)s is no longer linked.") % {"number": other.number})
        return HttpResponseRedirect(detail_url(ticket, "related"))


class SideConversationCreateView(TicketActionView):
    capability = Cap.TICKETS_NOTE

    def post(self, request, number):
        ticket = self.get_object()
        form = SideConversationForm(request.POST, request.FILES)
        if not form.is_valid():
            return _keep(self.refuse(ticket, _form_notice(form)), side_form=form)
        data = form.cleaned_data
        try:
            side = side_conversation_create(ticket=ticket, actor=request.user, via=Via.CONSOLE, kind=data["kind"],
                                            subject=data["subject"], body=data["body"],
                                            participants=data["participants"], attachments=data["attachments"])
        except ValidationError as exc:
            return _keep(self.refuse(ticket, exc, status=409 if isinstance(exc, TicketClosed) else 400),
                         side_form=form)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Side conversation “%(subject)s” started.") % {"subject": side.subject})
        return HttpResponseRedirect(detail_url(ticket, f"side-{side.pk}"))


class SideConversationActionView(TicketActionView):
    """A side conversation of this ticket, by its id in the path (another ticket's is a 404)."""

    capability = Cap.TICKETS_NOTE

    def side_conversation(self, ticket: Ticket, side_id: int) -> SideConversation | None:
        if not 0 < side_id <= MAX_ID:
            return None
        return SideConversation.objects.filter(ticket=ticket, pk=side_id).select_related("tenant", "ticket").first()

    def no_such_side_conversation(self, ticket: Ticket):
        return self.refuse(ticket, ValidationError(_("This ticket has no such side conversation.")), status=404)


class SideConversationReplyView(SideConversationActionView):
    def post(self, request, number, side_id):
        ticket = self.get_object()
        side = self.side_conversation(ticket, side_id)
        if side is None:
            return self.no_such_side_conversation(ticket)
        form = SideReplyForm(request.POST, request.FILES)
        draft = {"side": side.pk, "body": request.POST.get("body", "")}
        if not form.is_valid():
            return _keep(self.refuse(ticket, _form_notice(form)), side_reply_draft=draft)
        try:
            side_conversation_reply(side_conversation=side, actor=request.user, via=Via.CONSOLE,
                                    body=form.cleaned_data["body"], attachments=form.cleaned_data["attachments"])
        except ValidationError as exc:
            return _keep(self.refuse(ticket, exc, status=409 if isinstance(exc, TicketClosed) else 400),
                         side_reply_draft=draft)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Your message was added to the side conversation."))
        return HttpResponseRedirect(detail_url(ticket, f"side-{side.pk}"))


class SideConversationCloseView(SideConversationActionView):
    def post(self, request, number, side_id):
        ticket = self.get_object()
        side = self.side_conversation(ticket, side_id)
        if side is None:
            return self.no_such_side_conversation(ticket)
        try:
            side_conversation_close(side_conversation=side, actor=request.user, via=Via.CONSOLE)
        except ValidationError as exc:
            return self.refuse(ticket, exc)
        except PermissionDenied as exc:
            return self.refuse(ticket, exc, status=403)
        messages.success(request, _("Side conversation “%(subject)s” closed.") % {"subject": side.subject})
        return HttpResponseRedirect(detail_url(ticket, f"side-{side.pk}"))
