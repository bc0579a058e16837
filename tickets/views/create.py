"""The "New ticket" page: an agent opens a case for a requester found (or created) by email.

The form parses and bounds the input (choices are the tenant's own agents and teams, so
another tenant's id is not a valid choice); ``contact_for_email`` and ``ticket_create``
run in one transaction, so a refusal by the service leaves no new contact behind.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.console.views.base import ConsoleView
from helpdesk.tenancy.roles import Cap
from tickets.models import Priority, TicketType, Via
from tickets.services import contact_for_email, ticket_create
from tickets.services.tickets import SUBJECT_MAX_LENGTH
from tickets.views import queries
from tickets.views.forms import MAX_BODY, TagsField, _member_choices, _team_choices


class NewTicketForm(forms.Form):
    PUBLIC, NOTE = "public", "note"

    requester_email = forms.EmailField(label=gettext_lazy("Requester email"), max_length=254)
    requester_name = forms.CharField(label=gettext_lazy("Requester name"), max_length=200, required=False,
                                     help_text=gettext_lazy("Used only when no contact has this email yet."))
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=SUBJECT_MAX_LENGTH)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=MAX_BODY, required=False,
                                  widget=forms.Textarea(attrs={"rows": 8}))
    kind = forms.ChoiceField(label=gettext_lazy("First message is"), initial=PUBLIC, widget=forms.RadioSelect,
                             choices=[(PUBLIC, gettext_lazy("Public (the requester sees it)")),
                                      (NOTE, gettext_lazy("Internal note"))])
    priority = forms.ChoiceField(label=gettext_lazy("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=TicketType.choices, initial=TicketType.QUESTION)
    assignee = forms.ChoiceField(label=gettext_lazy("Assignee"), required=False)
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False)
    tags = TagsField(label=gettext_lazy("Tags"), help_text=gettext_lazy("Separate tags with commas or spaces."))

    def __init__(self, *args, members, teams, **kwargs):
        kwargs.setdefault("auto_id", "new-%s")
        super().__init__(*args, **kwargs)
        self.members = {m.user_id: m.user for m in members}
        self.teams = {t.pk: t for t in teams}
        self.fields["assignee"].choices = _member_choices(members, blank_label=_("Unassigned"))
        self.fields["team"].choices = _team_choices(teams, blank_label=_("No team"))

    def clean_subject(self):
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise ValidationError(_("Enter a subject."))
        return subject

    def clean_assignee(self):
        value = self.cleaned_data["assignee"]
        return self.members[int(value)] if value else None

    def clean_team(self):
        value = self.cleaned_data["team"]
        return self.teams[int(value)] if value else None


def _attach_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    names = {"requester.email": "requester_email", "requester": "requester_email", "body": "description"}
    for key, errors in exc.message_dict.items():
        name = names.get(key, key)
        form.add_error(name if name in form.fields else None, errors)


class TicketCreateView(ConsoleView):
    capability = Cap.TICKETS_EDIT
    template_name = "console/tickets/new.html"

    def _form(self, data=None) -> NewTicketForm:
        return NewTicketForm(data, members=queries.assignable_members(), teams=queries.teams())

    def _render(self, form: NewTicketForm, *, status: int = 200) -> TemplateResponse:
        return TemplateResponse(self.request, self.template_name, {"form": form}, status=status)

    def get(self, request):
        return self._render(self._form())

    def post(self, request):
        form = self._form(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        data = form.cleaned_data
        try:
            with transaction.atomic():
                requester = contact_for_email(tenant=request.tenant, email=data["requester_email"],
                                              name=data["requester_name"])
                ticket = ticket_create(
                    tenant=request.tenant, actor=request.user, via=Via.CONSOLE, subject=data["subject"],
                    description=data["description"], requester=requester, priority=data["priority"],
                    type=data["type"], tags=data["tags"], assignee=data["assignee"], team=data["team"],
                    public_description=data["kind"] == NewTicketForm.PUBLIC)
        except ValidationError as exc:
            _attach_errors(form, exc)
            return self._render(form, status=400)
        except PermissionDenied:
            form.add_error(None, _("You may not create tickets."))
            return self._render(form, status=403)
        messages.success(request, _("Ticket #%(number)s created.") % {"number": ticket.number})
        return HttpResponseRedirect(reverse("tickets:detail", kwargs={"number": ticket.number}))
