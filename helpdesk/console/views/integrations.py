"""Customer data integrations in the console: the requester card's panel and the settings pages.

The panel (``/console/contacts/<id>/integrations/``) is fetched by the ticket page after it
renders (``?partial=1`` answers the fragment alone); without JavaScript the card's link
opens the same view as a page. The settings pages (``/console/settings/integrations/…``)
let administrators add, change, delete and try integrations; every write goes through
``helpdesk.people.integrations``. Another tenant's contact or integration is a 404.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy as _
from django.views.generic.detail import SingleObjectMixin

from helpdesk.audit.services import request_meta
from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.people import integrations
from helpdesk.people.identities import normalize_email
from helpdesk.people.models import Contact, ContactIdentity, CustomerDataIntegration, IdentityKind
from helpdesk.tenancy.roles import Cap

# --- the panel ----------------------------------------------------------------------------------


class ContactIntegrationsView(TenantObjectMixin, ConsoleView, SingleObjectMixin):
    """What the tenant's systems say about one contact: a fragment for the card, or a page."""

    capability = Cap.CONTACTS_VIEW
    model = Contact

    def safely_get_queryset(self, queryset):
        return queryset.select_related("organization").prefetch_related("identities")

    def get(self, request, pk):
        contact = self.get_object()
        results = integrations.integration_fetch(tenant=self.tenant, contact=contact)
        partial = request.GET.get("partial") == "1"
        template = "console/contacts/_integrations.html" if partial else "console/contacts/integrations.html"
        response = TemplateResponse(request, template, {"contact": contact, "results": results})
        response["Cache-Control"] = "private, no-store"
        return response


# --- settings ------------------------------------------------------------------------------------


class IntegrationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("Shown as the heading of its part of the panel, e.g. “Shop”."))
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         help_text=_("The helpdesk POSTs the contact here. http or https, on the public internet."))
    secret = forms.CharField(
        label=_("Signing secret"), required=False, strip=False, min_length=integrations.SECRET_MIN_LENGTH,
        max_length=200, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 16 characters. Your system checks the X-Helpdesk-Signature header with it. "
                    "It is never shown again."))
    timeout_ms = forms.IntegerField(label=_("Timeout (ms)"), min_value=integrations.MIN_TIMEOUT_MS,
                                    max_value=integrations.MAX_TIMEOUT_MS, initial=2000)
    cache_seconds = forms.IntegerField(label=_("Cache (seconds)"), min_value=0,
                                       max_value=integrations.MAX_CACHE_SECONDS, initial=300,
                                       help_text=_("How long an answer is reused for the same contact."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, creating: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["secret"].required = True
        else:
            self.fields["secret"].help_text = _("Leave empty to keep the current secret.")

    def add_service_errors(self, exc: ValidationError) -> None:
        for name, errors in exc.message_dict.items():
            self.add_error(name if name in self.fields else None, errors)


class IntegrationTestForm(forms.Form):
    email = forms.EmailField(label=_("Contact's email (optional)"), required=False, max_length=254,
                             help_text=_("Leave empty to try it with a made-up sample contact."))


class SettingsView(ConsoleView):
    capability = Cap.SETTINGS_MANAGE


class IntegrationListView(SettingsView):
    def get(self, request):
        rows = list(CustomerDataIntegration.objects.order_by("name", "id"))
        return TemplateResponse(request, "console/integrations/list.html", {
            "integrations": rows,
            "max_kb": integrations.MAX_BODY_BYTES // 1024,
        })


class IntegrationCreateView(SettingsView):
    def get(self, request):
        return self.render(IntegrationForm(creating=True))

    def post(self, request):
        form = IntegrationForm(request.POST, creating=True)
        if form.is_valid():
            try:
                integration = integrations.integration_create(
                    tenant=self.tenant, actor=request.user, audit_meta=request_meta(request), **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, gettext("Integration “%(name)s” added.") % {"name": integration.name})
                return HttpResponseRedirect(reverse("console:integrations"))
        return self.render(form, status=400)

    def render(self, form, status=200):
        return TemplateResponse(self.request, "console/integrations/form.html",
                                {"form": form, "integration": None}, status=status)


class IntegrationObjectView(TenantObjectMixin, SettingsView, SingleObjectMixin):
    model = CustomerDataIntegration
    context_object_name = "integration"


class IntegrationUpdateView(IntegrationObjectView):
    def get(self, request, pk):
        integration = self.get_object()
        initial = {name: getattr(integration, name)
                   for name in ("name", "url", "timeout_ms", "cache_seconds", "is_active")}
        return self.render(integration, IntegrationForm(initial=initial, creating=False))

    def post(self, request, pk):
        integration = self.get_object()
        form = IntegrationForm(request.POST, creating=False)
        if form.is_valid():
            values = dict(form.cleaned_data)
            if not values.get("secret"):
                values.pop("secret", None)
            try:
                integration = integrations.integration_update(
                    integration=integration, actor=request.user, audit_meta=request_meta(request), **values)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, gettext("Integration “%(name)s” saved.") % {"name": integration.name})
                return HttpResponseRedirect(reverse("console:integrations"))
        return self.render(integration, form, status=400)

    def render(self, integration, form, status=200):
        return TemplateResponse(self.request, "console/integrations/form.html",
                                {"form": form, "integration": integration}, status=status)


class IntegrationDeleteView(IntegrationObjectView):
    def get(self, request, pk):
        return TemplateResponse(request, "console/integrations/delete.html", {"integration": self.get_object()})

    def post(self, request, pk):
        integration = self.get_object()
        name = integration.name
        integrations.integration_delete(integration=integration, actor=request.user,
                                        audit_meta=request_meta(request))
        messages.success(request, gettext("Integration “%(name)s” deleted.") % {"name": name})
        return HttpResponseRedirect(reverse("console:integrations"))


class IntegrationTestView(IntegrationObjectView):
    """Call the integration now (no cache) and show what agents would see, or why not."""

    def get(self, request, pk):
        return self.render(self.get_object(), IntegrationTestForm())

    def post(self, request, pk):
        integration = self.get_object()
        form = IntegrationTestForm(request.POST)
        if not form.is_valid():
            return self.render(integration, form, status=400)
        contact = None
        email = form.cleaned_data.get("email")
        if email:
            identity = (ContactIdentity.objects.filter(kind=IdentityKind.EMAIL, value=normalize_email(email))
                        .select_related("contact__organization").first())
            if identity is None:
                form.add_error("email", gettext("No contact has this email address."))
                return self.render(integration, form, status=400)
            contact = identity.contact
        result = integrations.integration_test(integration=integration, contact=contact)
        return self.render(integration, form, result=result, contact=contact)

    def render(self, integration, form, *, status=200, result=None, contact=None):
        return TemplateResponse(self.request, "console/integrations/test.html", {
            "integration": integration, "form": form, "result": result, "contact": contact,
            "results": [result] if result is not None else [],
        }, status=status)
