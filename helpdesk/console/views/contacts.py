"""Console pages of customers: contacts (search, page, identities, timeline, merge),
organizations, and CSV imports with a live progress bar.

Thin like every view: parse a form, call one service or selector, render. Reading needs
``contacts.view``; every change needs ``contacts.edit`` (and the services check it again).
Lists page by id (newest first) with "Older" links, so no page counts the table.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _, gettext_lazy

from helpdesk.console.views.base import ConsoleView, TenantObjectMixin
from helpdesk.people import imports, selectors, services, timeline
from helpdesk.people.models import (
    CONTACT_IMPORT_KINDS,
    Contact,
    ContactIdentity,
    IdentityKind,
    ImportJob,
    ImportKind,
    Organization,
)
from helpdesk.tenancy.roles import Cap, role_has

PAGE_SIZE = 50
TIMELINE_PAGE = 20


def _can_edit(request) -> bool:
    return role_has(request.membership.role, Cap.CONTACTS_EDIT)


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [message for messages_ in exc.message_dict.values() for message in messages_]
    return list(exc.messages)


def _before(request) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else None


# --- forms ---------------------------------------------------------------------------------------


def attributes_text(attributes: dict) -> str:
    return "\n".join(f"{key}: {value}" for key, value in attributes.items())


def parse_attributes(text: str) -> dict:
    """``key: value`` lines -> dict (values as text); raises ValidationError naming the line."""
    result = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise ValidationError(_("Line %(n)d: write “name: value”.") % {"n": number})
        result[key.strip()] = value.strip()
    return result


class ContactForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    organization = forms.CharField(label=gettext_lazy("Organization"), max_length=200, required=False,
                                   help_text=gettext_lazy("The organization's exact name; empty for none."),
                                   widget=forms.TextInput(attrs={"list": "organization-names"}))
    locale = forms.CharField(label=gettext_lazy("Language"), max_length=10, required=False,
                             help_text=gettext_lazy("A language code such as “en” or “tr”."))
    timezone = forms.CharField(label=gettext_lazy("Time zone"), max_length=64, required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attributes = forms.CharField(label=gettext_lazy("Custom attributes"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 4}),
                                 help_text=gettext_lazy("One per line: “plan: Premium”."))

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_organization(self):
        name = " ".join(self.cleaned_data["organization"].split())
        if not name:
            return None
        org = Organization.objects.filter(tenant=self.tenant, name__iexact=name).first()
        if org is None:
            raise ValidationError(_("No organization is named “%(name)s”.") % {"name": name})
        return org

    def clean_attributes(self):
        return parse_attributes(self.cleaned_data["attributes"])

    @classmethod
    def initial_for(cls, contact: Contact) -> dict:
        return {"name": contact.name, "organization": contact.organization.name if contact.organization else "",
                "locale": contact.locale, "timezone": contact.timezone, "notes": contact.notes,
                "attributes": attributes_text(contact.attributes)}


class NewContactForm(ContactForm):
    email = forms.CharField(label=gettext_lazy("Email"), max_length=320, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False,
                            help_text=gettext_lazy("With the country code: +90 532 123 45 67."))

    field_order = ["name", "email", "phone", "organization", "locale", "timezone", "notes", "attributes"]


class IdentityForm(forms.Form):
    ADD, REMOVE = "add", "remove"
    action = forms.ChoiceField(choices=[(ADD, ADD), (REMOVE, REMOVE)], initial=ADD, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=IdentityKind.choices, required=False)
    value = forms.CharField(label=gettext_lazy("Value"), max_length=320, required=False)
    provider = forms.CharField(label=gettext_lazy("Platform"), max_length=50, required=False,
                               help_text=gettext_lazy("For handles and external ids, e.g. “whatsapp”."))
    identity = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, widget=forms.HiddenInput)


class MergeForm(forms.Form):
    source = forms.CharField(label=gettext_lazy("Contact to merge into this one"), max_length=320,
                             help_text=gettext_lazy("Its id (#123), email, phone number or handle."))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class OrganizationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    domains = forms.CharField(label=gettext_lazy("Email domains"), required=False, max_length=2000,
                              help_text=gettext_lazy("Separated by spaces, commas or semicolons: example.com"))
    auto_assign = forms.BooleanField(label=gettext_lazy("Add new contacts with these email domains"),
                                     required=False)
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"),
                             choices=[c for c in ImportKind.choices if c[0] in CONTACT_IMPORT_KINDS],
                             initial=ImportKind.CONTACTS)
    file = forms.FileField(label=gettext_lazy("CSV file"))


def _add_errors(form: forms.Form, exc: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """A service's ValidationError onto the form (its field names mapped to the form's)."""
    fields = fields or {}
    if hasattr(exc, "error_dict"):
        for key, messages_ in exc.message_dict.items():
            name = fields.get(key, key)
            for message in messages_:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


# --- contacts ------------------------------------------------------------------------------------


class ContactListView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_VIEW
    model = Contact
    template_name = "console/contacts/list.html"

    def get(self, request):
        q = request.GET.get("q", "")[:200]
        queryset = selectors.contact_search(tenant=request.tenant, q=q, queryset=self.get_queryset())
        before = _before(request)
        if before:
            queryset = queryset.filter(pk__lt=before)
        rows = list(queryset.order_by("-id")[:PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        params = {"q": q} if q else {}
        return TemplateResponse(request, self.template_name, {
            "rows": rows, "q": q, "can_edit": _can_edit(request),
            "older_url": f"{request.path}?{urlencode({**params, 'before': rows[-1].pk})}" if more else None,
            "newest_url": f"{request.path}?{urlencode(params)}" if before else None,
        })


class ContactCreateView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_EDIT
    model = Contact
    template_name = "console/contacts/new.html"

    def get(self, request):
        return TemplateResponse(request, self.template_name, {"form": NewContactForm(tenant=request.tenant)})

    def post(self, request):
        form = NewContactForm(request.POST, tenant=request.tenant)
        if form.is_valid():
            data = form.cleaned_data
            given = [(name, kind) for name, kind in (("email", IdentityKind.EMAIL), ("phone", IdentityKind.PHONE))
                     if data[name].strip()]
            identities = [{"kind": kind, "value": data[name]} for name, kind in given]
            try:
                contact = services.contact_create(
                    tenant=request.tenant, actor=request.user, name=data["name"], organization=data["organization"],
                    locale=data["locale"], timezone=data["timezone"], notes=data["notes"],
                    attributes=data["attributes"], identities=identities)
            except ValidationError as exc:
                _add_errors(form, exc, fields={f"identities.{i}.value": name for i, (name, _k) in enumerate(given)})
            else:
                messages.success(request, _("Contact created."))
                return HttpResponseRedirect(reverse("console:contact", args=[contact.pk]))
        return TemplateResponse(request, self.template_name, {"form": form}, status=400)


def _timeline_page(request, contact: Contact, cursor: str) -> tuple[timeline.TimelinePage | None, bool]:
    before = None
    if cursor:
        try:
            before = timeline.decode_cursor(cursor)
        except ValueError:
            return None, True
    return timeline.contact_timeline(tenant=request.tenant, contact=contact, before=before,
                                     limit=TIMELINE_PAGE), False


class ContactDetailView(TenantObjectMixin, ConsoleView):
    """The contact page: details (editable), identities, the timeline, merge and delete."""

    capability = Cap.CONTACTS_VIEW
    model = Contact
    template_name = "console/contacts/detail.html"

    def get_contact(self, pk) -> Contact:
        try:
            return selectors.contact_rows(self.get_queryset()).get(pk=pk)
        except Contact.DoesNotExist:
            raise Http404 from None

    def render(self, request, contact, *, status=200, **context):
        cursor = request.GET.get("cursor", "")
        page, bad_cursor = _timeline_page(request, contact, cursor)
        context.setdefault("form", ContactForm(initial=ContactForm.initial_for(contact), tenant=request.tenant))
        context.setdefault("identity_form", IdentityForm())
        context.setdefault("merge_form", MergeForm())
        return TemplateResponse(request, self.template_name, {
            "contact": contact, "can_edit": _can_edit(request), "timeline": page, "bad_cursor": bad_cursor,
            "timeline_from_start": bool(cursor), "attribute_items": sorted(contact.attributes.items()),
            "organizations": Organization.objects.filter(tenant=request.tenant).order_by("name")
            .values_list("name", flat=True)[:500],
            **context,
        }, status=400 if bad_cursor else status)

    def get(self, request, pk):
        return self.render(request, self.get_contact(pk))

    def post(self, request, pk):
        contact = self.get_contact(pk)
        if not _can_edit(request):
            raise PermissionDenied
        form = ContactForm(request.POST, tenant=request.tenant)
        if form.is_valid():
            try:
                services.contact_update(contact=contact, actor=request.user, replace_attributes=True,
                                        **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Contact saved."))
                return HttpResponseRedirect(reverse("console:contact", args=[contact.pk]))
        return self.render(request, contact, form=form, status=400)


class ContactActionView(TenantObjectMixin, ConsoleView):
    """Base of the contact page's POST actions: the contact of the tenant, or a 404."""

    capability = Cap.CONTACTS_EDIT
    model = Contact
    http_method_names = ["post"]

    def contact(self, pk) -> Contact:
        contact = self.get_queryset().filter(pk=pk).first()
        if contact is None:
            raise Http404
        return contact

    def refuse(self, request, contact, **context):
        view = ContactDetailView()
        view.setup(request, pk=contact.pk)
        return view.render(request, view.get_contact(contact.pk), status=400, **context)


class ContactIdentityView(ContactActionView):
    def post(self, request, pk):
        contact = self.contact(pk)
        form = IdentityForm(request.POST)
        if not form.is_valid():
            return self.refuse(request, contact, identity_form=form)
        data = form.cleaned_data
        try:
            if data["action"] == IdentityForm.REMOVE:
                identity = ContactIdentity.objects.filter(tenant=request.tenant, contact=contact,
                                                          pk=data["identity"] or 0).first()
                if identity is None:
                    raise Http404
                services.identity_remove(identity=identity, actor=request.user)
                messages.success(request, _("%(value)s removed.") % {"value": identity.value})
            else:
                if not data["value"].strip():
                    form.add_error("value", _("Enter a value."))
                    return self.refuse(request, contact, identity_form=form)
                identity = services.identity_add(contact=contact, actor=request.user, kind=data["kind"] or "email",
                                                 value=data["value"], provider=data["provider"])
                messages.success(request, _("%(value)s added.") % {"value": identity.value})
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.refuse(request, contact, identity_form=form)
        return HttpResponseRedirect(reverse("console:contact", args=[contact.pk]) + "#identities")


def find_contact(*, tenant, text: str) -> Contact | None:
    """A contact by ``#id``/id, or by any identity value (normalised as that kind would be)."""
    text = text.strip()
    if text.lstrip("#").isdigit():
        found = Contact.objects.filter(tenant=tenant, pk=int(text.lstrip("#"))).first()
        if found is not None or text.startswith("#"):
            return found
    for kind in IdentityKind.values:
        try:
            _kind, _provider, value = services.clean_identity(kind, text)
        except ValidationError:
            continue
        identity = (ContactIdentity.objects.filter(tenant=tenant, kind=kind, value=value)
                    .select_related("contact").first())
        if identity is not None:
            return identity.contact
    return None


class ContactMergeView(ContactActionView):
    """Two steps: name the duplicate, then confirm on a page showing both contacts."""

    template_name = "console/contacts/merge_confirm.html"

    def post(self, request, pk):
        target = self.contact(pk)
        form = MergeForm(request.POST)
        if not form.is_valid():
            return self.refuse(request, target, merge_form=form)
        source = find_contact(tenant=request.tenant, text=form.cleaned_data["source"])
        if source is None:
            form.add_error("source", _("No contact matches “%(text)s”.") % {"text": form.cleaned_data["source"]})
            return self.refuse(request, target, merge_form=form)
        if source.pk == target.pk:
            form.add_error("source", _("That is this contact."))
            return self.refuse(request, target, merge_form=form)
        if not form.cleaned_data["confirm"]:
            rows = {c.pk: c for c in selectors.contact_rows(Contact.objects.filter(
                tenant=request.tenant, pk__in=[source.pk, target.pk]))}
            blockers = services.contact_blockers(contact=rows[source.pk])
            return TemplateResponse(request, self.template_name, {
                "source": rows[source.pk], "target": rows[target.pk], "has_records": bool(blockers),
            })
        try:
            services.contact_merge(tenant=request.tenant, source=source, target=target, actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc, fields={"source_id": "source"})
            return self.refuse(request, target, merge_form=form)
        messages.success(request, _("%(source)s was merged into this contact.") % {"source": source})
        return HttpResponseRedirect(reverse("console:contact", args=[target.pk]))


class ContactDeleteView(ContactActionView):
    def post(self, request, pk):
        contact = self.contact(pk)
        try:
            services.contact_delete(contact=contact, actor=request.user)
        except ValidationError as exc:
            for message in _errors(exc):
                messages.error(request, message)
            return HttpResponseRedirect(reverse("console:contact", args=[contact.pk]))
        messages.success(request, _("%(name)s was deleted.") % {"name": contact})
        return HttpResponseRedirect(reverse("console:contacts"))


class ContactTimelineView(TenantObjectMixin, ConsoleView):
    """``GET ?cursor=``: the next entries of the timeline as an HTML fragment ("Load more")."""

    capability = Cap.CONTACTS_VIEW
    model = Contact
    template_name = "console/contacts/_timeline.html"

    def get(self, request, pk):
        contact = self.get_queryset().filter(pk=pk).first()
        if contact is None:
            raise Http404
        page, bad_cursor = _timeline_page(request, contact, request.GET.get("cursor", ""))
        if bad_cursor:
            return TemplateResponse(request, "console/contacts/_timeline_error.html", {}, status=400)
        return TemplateResponse(request, self.template_name, {"contact": contact, "timeline": page})


# --- organizations --------------------------------------------------------------------------------


def _org_values(data: dict) -> dict:
    return {"name": data["name"], "domains": data["domains"], "auto_assign": data["auto_assign"],
            "notes": data["notes"]}


class OrganizationListView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_VIEW
    model = Organization
    template_name = "console/contacts/organizations.html"

    def render(self, request, *, form=None, status=200):
        q = request.GET.get("q", "")[:200]
        queryset = selectors.organization_search(tenant=request.tenant, q=q, queryset=self.get_queryset())
        before = _before(request)
        if before:
            queryset = queryset.filter(pk__lt=before)
        rows = list(queryset.order_by("-id")[:PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        params = {"q": q} if q else {}
        return TemplateResponse(request, self.template_name, {
            "rows": rows, "q": q, "can_edit": _can_edit(request), "form": form or OrganizationForm(),
            "older_url": f"{request.path}?{urlencode({**params, 'before': rows[-1].pk})}" if more else None,
            "newest_url": f"{request.path}?{urlencode(params)}" if before else None,
        }, status=status)

    def get(self, request):
        return self.render(request)

    def post(self, request):
        if not _can_edit(request):
            raise PermissionDenied
        form = OrganizationForm(request.POST)
        if form.is_valid():
            try:
                org = services.organization_create(tenant=request.tenant, actor=request.user,
                                                   **_org_values(form.cleaned_data))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Organization created."))
                return HttpResponseRedirect(reverse("console:organization", args=[org.pk]))
        return self.render(request, form=form, status=400)


class OrganizationDetailView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_VIEW
    model = Organization
    template_name = "console/contacts/organization.html"

    def get_org(self, pk) -> Organization:
        org = self.get_queryset().filter(pk=pk).first()
        if org is None:
            raise Http404
        return org

    def render(self, request, org, *, form=None, status=200):
        contacts = list(selectors.contact_search(tenant=request.tenant, organization_id=org.pk)
                        .order_by("-id")[:PAGE_SIZE + 1])
        form = form or OrganizationForm(initial={"name": org.name, "domains": " ".join(org.domains),
                                                 "auto_assign": org.auto_assign, "notes": org.notes})
        return TemplateResponse(request, self.template_name, {
            "organization": org, "contacts": contacts[:PAGE_SIZE], "more_contacts": len(contacts) > PAGE_SIZE,
            "form": form, "can_edit": _can_edit(request),
        }, status=status)

    def get(self, request, pk):
        return self.render(request, self.get_org(pk))

    def post(self, request, pk):
        org = self.get_org(pk)
        if not _can_edit(request):
            raise PermissionDenied
        form = OrganizationForm(request.POST)
        if form.is_valid():
            try:
                services.organization_update(organization=org, actor=request.user, **_org_values(form.cleaned_data))
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Organization saved."))
                return HttpResponseRedirect(reverse("console:organization", args=[org.pk]))
        return self.render(request, org, form=form, status=400)


class OrganizationDeleteView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_EDIT
    model = Organization
    http_method_names = ["post"]

    def post(self, request, pk):
        org = self.get_queryset().filter(pk=pk).first()
        if org is None:
            raise Http404
        services.organization_delete(organization=org, actor=request.user)
        messages.success(request, _("%(name)s was deleted; its contacts stay.") % {"name": org.name})
        return HttpResponseRedirect(reverse("console:organizations"))


# --- imports --------------------------------------------------------------------------------------


class ImportView(TenantObjectMixin, ConsoleView):
    """Upload a CSV (checked at once), then follow it on its own page."""

    capability = Cap.CONTACTS_EDIT
    model = ImportJob
    template_name = "console/contacts/imports.html"

    def render(self, request, form, *, status=200):
        jobs = list(selectors.import_jobs(tenant=request.tenant)[:20])
        return TemplateResponse(request, self.template_name, {"form": form, "jobs": jobs}, status=status)

    def get(self, request):
        return self.render(request, ImportForm(initial={"kind": request.GET.get("kind", ImportKind.CONTACTS)}))

    def post(self, request):
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_job_create(tenant=request.tenant, kind=form.cleaned_data["kind"],
                                                data=upload.read(), filename=upload.name, actor=request.user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("console:contacts_import", args=[job.pk]))
        return self.render(request, form, status=400)


class ImportDetailView(TenantObjectMixin, ConsoleView):
    capability = Cap.CONTACTS_EDIT
    model = ImportJob
    template_name = "console/contacts/import_detail.html"

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind__in=CONTACT_IMPORT_KINDS)  # other kinds have their own pages

    def get(self, request, pk):
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return TemplateResponse(request, self.template_name, {"job": job})


class ImportStatusView(TenantObjectMixin, ConsoleView):
    """The import's progress as JSON, polled by the progress bar."""

    capability = Cap.CONTACTS_EDIT
    model = ImportJob

    def safely_get_queryset(self, queryset):
        return queryset.filter(kind__in=CONTACT_IMPORT_KINDS)

    def get(self, request, pk):
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return JsonResponse(imports.import_job_status(job))
