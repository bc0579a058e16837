"""Admin of people: platform users (superusers only), and each tenant's teams, organizations, contacts."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin, forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from helpdesk.people.identities import normalize_identity
from helpdesk.people.integrations import (
    SECRET_MIN_LENGTH,
    check_integration_url,
    integration_create,
    integration_delete,
    integration_update,
)
from helpdesk.people.models import (
    Contact,
    ContactIdentity,
    CustomerDataIntegration,
    ImportJob,
    Organization,
    Team,
    TeamMember,
    User,
)
from helpdesk.people.services import clean_domains, organizations_with_domain
from helpdesk.tenancy.admin_base import (
    ACTIONS,
    TenantScopedAdmin,
    TenantScopedForm,
    TenantScopedTabularInline,
    is_platform_admin,
)
from helpdesk.tenancy.context import dangerously_unscoped
from helpdesk.tenancy.models import Membership
from helpdesk.tenancy.roles import Cap

# --- users (platform) -------------------------------------------------------------------


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta(auth_forms.AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes = {}


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User
        fields = ("email", "full_name", "locale", "timezone", "is_active", "is_staff", "is_superuser", "groups",
                  "user_permissions")
        field_classes = {}


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    """Every person on the platform: superusers only. Tenant admins manage memberships instead."""

    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("full_name", "locale", "timezone")}),
        (_("Two-factor sign-in"), {"fields": ("totp_enabled",)}),
        (_("Platform access"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Helpdesks"), {"fields": ("helpdesks",)}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),
    )
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "totp_enabled")
    list_filter = ("is_staff", "is_superuser", "is_active", "totp_enabled")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("totp_enabled", "helpdesks", "last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    actions = ["reset_two_factor"]

    def get_urls(self):
        urls = super().get_urls()
        for url in urls:
            # Name the model behind every URL (the isolation harness reads it).
            callback = getattr(url, "callback", None)
            if callback is not None and not hasattr(callback, "model_admin"):
                callback.model_admin = self
        return urls

    def has_module_permission(self, request):
        return is_platform_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_platform_admin(request.user)

    def has_add_permission(self, request):
        return is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_platform_admin(request.user)

    @admin.display(description=_("helpdesks"))
    def helpdesks(self, obj):
        # Platform view across tenants (superusers only, see the permissions above).
        with dangerously_unscoped():
            memberships = list(Membership.unscoped.filter(user=obj).select_related("tenant").order_by("tenant__name"))
        if not memberships:
            return "—"
        return format_html_join(", ", "{} ({}{})", (
            (m.tenant.name, m.get_role_display(), "" if m.is_active else ", " + gettext("inactive"))
            for m in memberships
        ))

    @admin.action(description=_("Reset two-factor sign-in (the person enrols again)"))
    def reset_two_factor(self, request, queryset):
        count = queryset.filter(totp_enabled=True).update(totp_enabled=False, totp_secret="", totp_last_counter=0)
        self.message_user(request, ngettext("Two-factor sign-in reset for %(count)d person.",
                                            "Two-factor sign-in reset for %(count)d people.", count)
                          % {"count": count}, messages.SUCCESS)


# --- teams ------------------------------------------------------------------------------


class TeamMemberInline(TenantScopedTabularInline):
    model = TeamMember
    fields = ("user", "is_lead")
    extra = 0


@admin.register(Team)
class TeamAdmin(TenantScopedAdmin):
    capabilities = {action: Cap.MEMBERS_MANAGE for action in ACTIONS}
    list_display = ("name", "description", "created_at")
    search_fields = ("name",)
    ordering = ("name",)
    inlines = [TeamMemberInline]


# --- organizations and contacts -----------------------------------------------------------

_CONTACT_CAPABILITIES = {"view": Cap.CONTACTS_VIEW, "add": Cap.CONTACTS_EDIT, "change": Cap.CONTACTS_EDIT,
                         "delete": Cap.CONTACTS_EDIT}


class OrganizationForm(TenantScopedForm):
    class Meta:
        model = Organization
        fields = ("name", "domains", "auto_assign", "notes")

    def clean_domains(self):
        try:
            domains = clean_domains(self.cleaned_data.get("domains"))
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["domains"]) from None
        tenant = self.target_tenant()
        for domain in domains if tenant is not None else ():
            owner = organizations_with_domain(tenant=tenant, domain=domain).exclude(pk=self.instance.pk).first()
            if owner is not None:
                raise ValidationError(gettext("The domain %(domain)s already belongs to the organization "
                                              "“%(name)s”.") % {"domain": domain, "name": owner.name})
        return domains


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    capabilities = _CONTACT_CAPABILITIES
    form = OrganizationForm
    list_display = ("name", "domain_list", "auto_assign", "created_at")
    list_filter = ("auto_assign",)
    search_fields = ("name",)
    ordering = ("name",)
    fields = ("name", "domains", "auto_assign", "notes")

    @admin.display(description=_("email domains"))
    def domain_list(self, obj):
        return ", ".join(obj.domains) or "—"


class ContactIdentityForm(TenantScopedForm):
    class Meta:
        model = ContactIdentity
        fields = ("kind", "provider", "value", "is_primary")

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind and value:
            try:
                cleaned["value"] = normalize_identity(kind, value)
            except ValidationError as exc:
                self.add_error("value", exc)
        return cleaned


class ContactIdentityInline(TenantScopedTabularInline):
    model = ContactIdentity
    form = ContactIdentityForm
    fields = ("kind", "provider", "value", "is_primary")
    extra = 0


@admin.register(Contact)
class ContactAdmin(TenantScopedAdmin):
    capabilities = _CONTACT_CAPABILITIES
    list_display = ("__str__", "organization", "locale", "created_at")
    list_select_related = ("organization",)
    search_fields = ("name", "identities__value")
    ordering = ("-created_at", "-id")
    fields = ("name", "organization", "locale", "timezone", "notes", "attributes")
    inlines = [ContactIdentityInline]


@admin.register(ImportJob)
class ImportJobAdmin(TenantScopedAdmin):
    """CSV imports, read-only: they are made and followed in the console."""

    capabilities = {"view": Cap.CONTACTS_EDIT}
    list_display = ("__str__", "kind", "status", "processed_rows", "total_rows", "created_count", "updated_count",
                    "failed_count", "created_by", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("created_by",)
    search_fields = ("filename",)
    ordering = ("-created_at", "-id")
    fields = ("kind", "status", "filename", "created_by", "total_rows", "processed_rows", "created_count",
              "updated_count", "failed_count", "errors", "created_at", "started_at", "finished_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- customer data integrations ---------------------------------------------------------------


class CustomerDataIntegrationForm(TenantScopedForm):
    """The secret is write-only: never rendered back; left empty on change, it is kept."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(label=_("signing secret"), required=False, strip=False, max_length=200,
                             widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                             help_text=_("At least 16 characters. Never shown again; leave empty to keep it."))

    class Meta:
        model = CustomerDataIntegration
        fields = ("name", "url", "timeout_ms", "cache_seconds", "is_active")

    def clean_url(self):
        try:
            return check_integration_url(self.cleaned_data.get("url") or "")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["url"]) from None

    def clean_secret(self):
        secret = self.cleaned_data.get("secret") or ""
        if not secret and self.instance.pk is None:
            raise ValidationError(gettext("Enter a signing secret."))
        if secret and len(secret) < SECRET_MIN_LENGTH:
            raise ValidationError(gettext("Use a signing secret of at least %(count)d characters.")
                                  % {"count": SECRET_MIN_LENGTH})
        return secret


@admin.register(CustomerDataIntegration)
class CustomerDataIntegrationAdmin(TenantScopedAdmin):
    """Writes go through ``people.integrations`` (URL guard, audit); the secret is never shown."""

    form = CustomerDataIntegrationForm
    capabilities = {action: Cap.SETTINGS_MANAGE for action in ACTIONS}
    audit_writes = False  # the services audit
    list_display = ("name", "url", "is_active", "timeout_ms", "cache_seconds", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    ordering = ("name",)
    fields = ("name", "url", "secret", "timeout_ms", "cache_seconds", "is_active")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name)
                for name in ("name", "url", "secret", "timeout_ms", "cache_seconds", "is_active")}
        if change:
            if not data["secret"]:
                data.pop("secret")
            stored = integration_update(integration=obj, actor=request.user, **data)
        else:
            stored = integration_create(tenant=form.target_tenant() or request.tenant, actor=request.user, **data)
        obj.pk = stored.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        integration_delete(integration=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for integration in queryset.select_related("tenant"):
            integration_delete(integration=integration, actor=request.user)
