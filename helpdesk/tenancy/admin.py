"""Admin of tenants (platform), memberships and API keys (per tenant)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from helpdesk.tenancy.admin_base import (
    ACTIONS,
    MissingBeforeRefusalMixin,
    TenantScopedAdmin,
    TenantScopedForm,
    admin_audit,
    admin_membership,
    form_changes,
    is_platform_admin,
    tenant_admin_can,
)
from helpdesk.tenancy.models import ApiKey, Membership, Tenant, TenantDomain
from helpdesk.tenancy.roles import Cap, Role, Scope
from helpdesk.tenancy.services import api_key_create, api_key_revoke, membership_add, tenant_create


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved ``obj`` the row a service saved (the admin goes on with ``obj``)."""
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


# --- tenants ----------------------------------------------------------------------------


class TenantDomainInline(admin.TabularInline):
    model = TenantDomain
    extra = 0


class TenantAddForm(forms.ModelForm):
    owner_email = forms.EmailField(label=_("Owner's email"))
    owner_password = forms.CharField(
        label=_("Owner's password"), required=False, strip=False, widget=forms.PasswordInput,
        help_text=_("Only for a new person; leave empty to let them set it through password reset."),
    )

    class Meta:
        model = Tenant
        fields = ("slug", "name", "timezone", "default_locale")

    def clean_owner_password(self):
        password = self.cleaned_data.get("owner_password")
        if password:
            validate_password(password)
        return password


@admin.register(Tenant)
class TenantAdmin(MissingBeforeRefusalMixin, admin.ModelAdmin):
    """Platform superusers manage tenants; a tenant's admins edit their own settings and branding."""

    list_display = ("name", "slug", "timezone", "default_locale", "is_active", "created_at")
    list_filter = ("is_active", "default_locale")
    search_fields = ("name", "slug")
    ordering = ("name",)
    # What a tenant's own admins may change.
    tenant_fields = ("name", "brand_name", "brand_color", "logo", "timezone", "default_locale",
                     "require_two_factor")

    def _tenant_admin(self, request) -> bool:
        return tenant_admin_can(request, Cap.SETTINGS_MANAGE)

    def has_module_permission(self, request):
        return is_platform_admin(request.user) or self._tenant_admin(request)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_platform_admin(request.user)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request.user):
            return queryset
        if self._tenant_admin(request):
            return queryset.filter(pk=request.tenant.pk)
        return queryset.none()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("slug", "name", "timezone", "default_locale", "owner_email", "owner_password")
        if is_platform_admin(request.user):
            return ("slug", *self.tenant_fields, "is_active", "created_at")
        return ("slug", *self.tenant_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("created_at",) if is_platform_admin(request.user) else ("slug",)

    def get_inlines(self, request, obj):
        return [TenantDomainInline] if is_platform_admin(request.user) and obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TenantAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            before, after = form_changes(form)
            if before or after:
                admin_audit(request, obj, "changed", before=before, after=after)
            return
        data = form.cleaned_data
        tenant = tenant_create(
            slug=data["slug"], name=data["name"], owner_email=data["owner_email"],
            owner_password=data.get("owner_password") or None, timezone_name=data["timezone"],
            default_locale=data["default_locale"],
        )
        _adopt(obj, tenant)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            admin_audit(request, form.instance, "domains_changed",
                        after={"domains": list(form.instance.domains.values_list("domain", flat=True))})


# --- memberships ------------------------------------------------------------------------


class MembershipAddForm(TenantScopedForm):
    email = forms.EmailField(label=_("Email"), help_text=_(
        "The person's sign-in email. Someone new gets an account and sets a password through password reset."))

    class Meta:
        model = Membership
        fields = ("role",)

    def clean(self):
        cleaned = super().clean()
        tenant = self.target_tenant()
        email = (cleaned.get("email") or "").strip().lower()
        if tenant is not None and email:
            exists = Membership.unscoped.filter(tenant=tenant, user__email__iexact=email, is_active=True).exists()
            if exists:
                self.add_error("email", gettext("This person is already a member."))
        return cleaned


class MembershipForm(TenantScopedForm):
    class Meta:
        model = Membership
        fields = ("role", "is_active")


def _is_owner(request) -> bool:
    membership = admin_membership(request)
    return membership is not None and membership.role == Role.OWNER


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    """People of the tenant and their roles. Only owners (and superusers) grant or touch ownership."""

    form = MembershipForm
    capabilities = {action: Cap.MEMBERS_MANAGE for action in ACTIONS}
    list_display = ("user_email", "user_name", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user",)
    ordering = ("user__email",)

    @admin.display(description=_("email"), ordering="user__email")
    def user_email(self, obj):
        return obj.user.email

    @admin.display(description=_("full name"), ordering="user__full_name")
    def user_name(self, obj):
        return obj.user.full_name

    def _may_touch(self, request, obj) -> bool:
        if obj is None or is_platform_admin(request.user):
            return True
        return obj.role != Role.OWNER or _is_owner(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.user_id == request.user.pk:
            return False  # not your own membership: ask another admin
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["user_email", "user_name", "created_at"]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not (is_platform_admin(request.user) or _is_owner(request)):
            kwargs["choices"] = [choice for choice in Role.choices if choice[0] != Role.OWNER]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        User = get_user_model()
        email = User.objects.normalize_email(form.cleaned_data["email"]).lower()
        user = User.objects.filter(email__iexact=email).first() or User.objects.create_user(email=email)
        membership = membership_add(tenant=form.target_tenant(), user=user, role=form.cleaned_data["role"],
                                    actor=request.user)
        _adopt(obj, membership)


# --- API keys ---------------------------------------------------------------------------


class ApiKeyForm(TenantScopedForm):
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("What the key may do. A write scope includes reading the same area."),
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    """Keys are shown once, on creation; afterwards only their prefix. Revoke rather than delete."""

    form = ApiKeyForm
    capabilities = {"view": Cap.API_KEYS_MANAGE, "add": Cap.API_KEYS_MANAGE, "change": Cap.API_KEYS_MANAGE,
                    "revoke": Cap.API_KEYS_MANAGE}
    audit_label = "api_key"
    list_display = ("name", "masked_key", "scope_list", "created_at", "last_used_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    ordering = ("-created_at",)
    actions = ["revoke_keys"]

    @admin.display(description=_("key"))
    def masked_key(self, obj):
        return f"hk_{obj.prefix}_…"

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj):
        return obj.revoked_at is None

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += ["masked_key", "created_by", "created_at", "last_used_at", "revoked_at"]
        return readonly

    def has_revoke_permission(self, request):
        return self._allowed(request, "revoke")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        key, raw = api_key_create(tenant=form.target_tenant(), name=form.cleaned_data["name"],
                                  scopes=form.cleaned_data["scopes"], created_by=request.user)
        _adopt(obj, key)
        messages.warning(request, format_html(
            '{} <code class="api-key">{}</code>',
            gettext("Copy the new key now; it is not shown again:"), raw,
        ))

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("tenant"):
            api_key_revoke(key=key, actor=request.user)
            revoked += 1
        self.message_user(request, ngettext("%(count)d key revoked.", "%(count)d keys revoked.", revoked)
                          % {"count": revoked}, messages.SUCCESS)
