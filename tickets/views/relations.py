"""The ticket page's relation actions: merge into another ticket, link a related ticket,
copy (CC) people. Each is a small POST form that calls one service.

The other ticket is named by its number and looked up in the tenant's own tickets, so
another tenant's number is "no such ticket" (a 400 with a notice), never a merge.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.tenancy.roles import Cap
from tickets.models import Ticket, TicketCC, Via
from tickets.services import TicketClosed, contact_for_email, ticket_cc_add, ticket_cc_remove, ticket_link, ticket_merge
from tickets.views.actions import TicketActionView, detail_url

MAX_NUMBER = 2**31 - 1


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
