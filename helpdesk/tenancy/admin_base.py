"""The Django admin, scoped to the admin's tenant (DESIGN.md "Tenancy").

Who may enter (``HelpdeskAdminSite.has_permission``):
- platform superusers, who see every tenant (``TenantMiddleware`` lifts the tenant filter
  and row-level security for them under ``/admin/``);
- members whose role has ``Cap.ADMIN_SITE`` in the request's tenant (the host's tenant, or
  on platform hosts the one chosen in the console), who see that tenant only.

What they may do per model is declared on each ``TenantScopedAdmin`` as a capability per
action (``capabilities = {"view": Cap.X, "change": Cap.Y}``); an undeclared action is
refused (default-deny). Tenant admins need no per-user Django permission rows.

``TenantScopedAdmin`` is the one guarded base for tenant-owned models, and the site refuses
to register a tenant-owned model (or inline) without it:
- rows: ``get_queryset`` keeps the request's tenant for tenant admins (another tenant's
  object is then exactly a missing one: the admin redirects with "doesn't exist");
- writes: a new row gets the request's tenant (superusers choose it); every relation a
  form offers (foreign keys, many-to-many, users) is limited to the row's tenant and
  re-checked on submit;
- the ``tenant`` column is read-only for superusers and absent for tenant admins;
- every add, change and delete leaves an audit entry.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.base import ModelBase
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, gettext_lazy as _

from helpdesk.audit.services import audit_record, request_meta
from helpdesk.tenancy.context import tenant_scope
from helpdesk.tenancy.models import Membership, Tenant, TenantOwned
from helpdesk.tenancy.roles import Cap, role_has

ACTIONS = ("view", "add", "change", "delete")
TENANT_CHOICE_FIELD = "tenant_choice"


# --- who is asking ----------------------------------------------------------------------


def is_platform_admin(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def admin_membership(request) -> Membership | None:
    """The request's membership if it admits its holder to the admin site of its tenant."""
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if membership is None or tenant is None or membership.tenant_id != tenant.pk:
        return None
    if membership.user_id != user.pk or not membership.is_active:
        return None
    if tenant.blocks_without_two_factor(user):
        return None
    return membership if role_has(membership.role, Cap.ADMIN_SITE) else None


def tenant_admin_can(request, capability: str | None) -> bool:
    """A tenant admin (not a superuser) holding ``capability`` in the request's tenant."""
    if capability is None:
        return False
    membership = admin_membership(request)
    return membership is not None and role_has(membership.role, capability)


def tenant_members(tenant: Tenant) -> models.QuerySet:
    """Users with an active membership in ``tenant``: the only people a tenant's form offers."""
    return get_user_model().objects.filter(memberships__tenant=tenant, memberships__is_active=True)


# --- audit ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (models.QuerySet, list, tuple, set)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "name") and hasattr(value, "url") and not isinstance(value, str):  # files
        return getattr(value, "name", "") or ""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def form_changes(form: forms.BaseForm, *, secret_fields: Iterable[str] = ()) -> tuple[dict, dict]:
    """(before, after) of the fields a form changed, secrets masked."""
    before, after = {}, {}
    hidden = set(secret_fields)
    for name in form.changed_data:
        if name == TENANT_CHOICE_FIELD:
            continue
        if name in hidden:
            before[name] = after[name] = "***"
            continue
        before[name] = _jsonable(form.initial.get(name))
        after[name] = _jsonable(form.cleaned_data.get(name))
    return before, after


def admin_audit(request, obj: models.Model, verb: str, *, tenant: Tenant | None = None,
                before: dict | None = None, after: dict | None = None, label: str | None = None) -> None:
    """Record an admin write (``<label>.<verb>``) in the audit log of the object's tenant."""
    tenant = tenant or (obj if isinstance(obj, Tenant) else getattr(obj, "tenant", None))
    if tenant is None:
        return
    with tenant_scope(tenant):
        audit_record(
            tenant=tenant, action=f"{label or obj._meta.model_name}.{verb}", actor=request.user, obj=obj,
            before=before, after={**(after or {}), "via": "admin"}, **request_meta(request),
        )


# --- the site ---------------------------------------------------------------------------


class HelpdeskAdminSite(admin.AdminSite):
    site_header = _("Helpdesk administration")
    site_title = _("Helpdesk admin")
    index_title = _("Administration")
    site_url = "/console/"
    not_permitted_template = "admin/not_permitted.html"

    def has_permission(self, request) -> bool:
        return is_platform_admin(request.user) or admin_membership(request) is not None

    def register(self, model_or_iterable, admin_class=None, **options):
        models_ = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        for model in models_:
            _check_scoped(model, admin_class)
        return super().register(model_or_iterable, admin_class, **options)

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        context["admin_is_platform"] = is_platform_admin(request.user)
        context["admin_tenant"] = tenant
        if tenant is not None and not context["admin_is_platform"]:
            context["site_header"] = gettext("%(tenant)s administration") % {"tenant": tenant.display_name}
        return context

    def login(self, request, extra_context=None):
        """One way in: the console's sign-in (password, two-factor, lockout, tenant choice).

        Someone signed in without access gets an explanation, not another password form
        (which would be a second door around two-factor sign-in).
        """
        index = reverse("admin:index", current_app=self.name)
        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(index)
            tenant = getattr(request, "tenant", None)
            if tenant is not None and getattr(request, "membership", None) is not None \
                    and tenant.blocks_without_two_factor(request.user):
                setup = reverse("console:two_factor_setup")
                return HttpResponseRedirect(f"{setup}?{urlencode({'next': request.GET.get('next') or index})}")
            context = {**self.each_context(request), "title": _("No access"), "subtitle": None,
                       "console_url": resolve_url(settings.LOGIN_REDIRECT_URL), **(extra_context or {})}
            request.current_app = self.name
            return TemplateResponse(request, self.not_permitted_template, context, status=403)
        next_url = request.GET.get("next") or index
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            next_url = index
        return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}")


def _check_scoped(model, admin_class) -> None:
    if issubclass(model, TenantOwned) and not (admin_class and issubclass(admin_class, TenantScopedAdmin)):
        raise ImproperlyConfigured(
            f"{model.__name__} is tenant-owned: register it with a TenantScopedAdmin subclass"
        )
    for inline in getattr(admin_class, "inlines", ()) or ():
        if issubclass(inline.model, TenantOwned) and not issubclass(inline, TenantScopedInline):
            raise ImproperlyConfigured(
                f"{inline.__name__} edits tenant-owned {inline.model.__name__}: use TenantScopedInline"
            )


# --- forms ------------------------------------------------------------------------------


class TenantScopedForm(forms.ModelForm):
    """Model form of a tenant-owned row: the row's tenant decides every relation.

    ``hd_tenant`` is fixed by the admin (the request's tenant, or the row's for a
    superuser's change); a superuser's add form carries ``tenant_choice`` instead; an
    inline form takes its parent's. Unique constraints that include ``tenant`` are checked
    like any other (Django would skip them: ``tenant`` is not a form field).
    """

    hd_tenant: Tenant | None = None

    def target_tenant(self) -> Tenant | None:
        if self.hd_tenant is not None:
            return self.hd_tenant
        chosen = getattr(self, "cleaned_data", {}).get(TENANT_CHOICE_FIELD)
        if chosen is not None:
            return chosen
        if self.instance.tenant_id is not None:
            return self.instance.tenant
        return None

    def clean(self):
        cleaned = super().clean()
        tenant = self.target_tenant()
        if tenant is None:
            return cleaned
        user_model = get_user_model()
        for name, value in list(cleaned.items()):
            try:
                field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field
                continue
            if not field.is_relation or value in (None, "") or field.related_model is None:
                continue
            values = list(value) if field.many_to_many else [value]
            related = field.related_model
            if issubclass(related, TenantOwned):
                if any(item.tenant_id != tenant.pk for item in values):
                    self.add_error(name, gettext("Choose from this tenant's own records."))
            elif related is user_model:
                members = set(tenant_members(tenant).filter(pk__in=[u.pk for u in values])
                              .values_list("pk", flat=True))
                if any(item.pk not in members for item in values):
                    self.add_error(name, gettext("Choose a member of this tenant."))
        return cleaned

    def _post_clean(self):
        tenant = self.target_tenant()
        if tenant is not None and self.instance.tenant_id is None:
            self.instance.tenant = tenant
        super()._post_clean()

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if self.instance.tenant_id is not None:
            exclude.discard("tenant")
        return exclude


class TenantInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows belong to their parent's tenant."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if form.instance.tenant_id is None and getattr(self.instance, "tenant_id", None) is not None:
            form.instance.tenant_id = self.instance.tenant_id
        return form


# --- model admins -----------------------------------------------------------------------


def _person_label(user) -> str:
    # Names repeat; the email tells people apart.
    return f"{user.full_name} <{user.email}>" if getattr(user, "full_name", "") else user.email


class _TenantRelationsMixin:
    """Relation choices limited to the tenant of the row being edited."""

    def _choice_tenant(self, request, obj) -> Tenant | None:
        if obj is not None and getattr(obj, "tenant_id", None) is not None:
            return obj.tenant
        if is_platform_admin(request.user):
            return None  # a superuser's add form: the chosen tenant is checked on submit
        return getattr(request, "tenant", None)

    def _limit(self, request, related, queryset):
        tenant = getattr(request, "_hd_choice_tenant", None)
        platform = is_platform_admin(request.user)
        if issubclass(related, TenantOwned):
            queryset = queryset if queryset is not None else related._default_manager.all()
            if tenant is not None:
                return queryset.filter(tenant=tenant)
            return queryset if platform else queryset.none()
        if related is get_user_model():
            if tenant is not None:
                return tenant_members(tenant).order_by("email")
            return related._default_manager.order_by("email") if platform else related._default_manager.none()
        return queryset

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        limited = self._limit(request, db_field.related_model, kwargs.get("queryset"))
        if limited is not None:
            kwargs["queryset"] = limited
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model is get_user_model():
            field.label_from_instance = _person_label
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        limited = self._limit(request, db_field.related_model, kwargs.get("queryset"))
        if limited is not None:
            kwargs["queryset"] = limited
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class MissingBeforeRefusalMixin:
    """Django refuses some object views (403) before looking the object up. For an id that
    the viewer cannot see (missing, or another tenant's) answer as for a missing object
    instead: the admin's "doesn't exist" redirect. The viewer's own objects still get 403.

    Only for admins whose ``get_queryset`` is the viewer's scope: applied to a global
    model, it would tell which ids exist.
    """

    def _missing_before_refusal(self, request, object_id, allowed: bool):
        if allowed or self.get_object(request, unquote(object_id)) is not None:
            return None
        return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        allowed = (self.has_change_permission(request) if request.method == "POST"
                   else self.has_view_or_change_permission(request))
        return (self._missing_before_refusal(request, object_id, allowed)
                or super().change_view(request, object_id, form_url, extra_context))

    def delete_view(self, request, object_id, extra_context=None):
        return (self._missing_before_refusal(request, object_id, self.has_delete_permission(request))
                or super().delete_view(request, object_id, extra_context))

    def history_view(self, request, object_id, extra_context=None):
        return (self._missing_before_refusal(request, object_id, self.has_view_or_change_permission(request))
                or super().history_view(request, object_id, extra_context))


class TenantScopedAdmin(MissingBeforeRefusalMixin, _TenantRelationsMixin, admin.ModelAdmin):
    """Base admin of every tenant-owned model (see the module docstring)."""

    form = TenantScopedForm
    # action ("view", "add", "change", "delete", or a custom action permission) -> Cap.
    capabilities: dict[str, str] = {}
    # Read-only admins refuse add/change/delete to everyone, superusers included.
    read_only = False
    # Audited by the admin itself; set False where a service writes (and audits).
    audit_writes = True
    # The audit action's prefix ("api_key" -> "api_key.changed"); the model name by default.
    audit_label: str | None = None
    secret_fields: tuple[str, ...] = ()

    # -- permissions (capabilities for tenant admins; superusers as Django says) --
    def _allowed(self, request, action: str) -> bool:
        if self.read_only and action in {"add", "change", "delete"}:
            return False
        if is_platform_admin(request.user):
            return True
        return tenant_admin_can(request, self.capabilities.get(action))

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, "view") or self._allowed(request, "change")

    def has_add_permission(self, request):
        return self._allowed(request, "add")

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, "change")

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, "delete")

    def has_module_permission(self, request):
        return any(self._allowed(request, action) for action in ACTIONS)

    # -- URLs --
    def get_urls(self):
        """Django's URLs, but the legacy ``<id>/`` -> ``<id>/change/`` redirect looks the object up.

        Django redirects any id blindly; here a missing object and another tenant's object
        both get the admin's "doesn't exist" answer, and an existing one its change page.
        """
        from django.urls import path

        urls = super().get_urls()
        legacy = [u for u in urls if str(u.pattern) == "<path:object_id>/"]
        if legacy:
            view = self.admin_site.admin_view(self._legacy_change_redirect)
            view.model_admin = self
            urls[urls.index(legacy[0])] = path("<path:object_id>/", view)
        return urls

    def _legacy_change_redirect(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        info = (self.opts.app_label, self.opts.model_name)
        return HttpResponseRedirect(reverse("admin:%s_%s_change" % info, args=[obj.pk],
                                            current_app=self.admin_site.name))

    # -- rows --
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request.user):
            return queryset
        tenant = getattr(request, "tenant", None)
        if tenant is None or admin_membership(request) is None:
            return queryset.none()
        return queryset.filter(tenant=tenant)

    def get_list_select_related(self, request):
        # (Not in get_queryset: the changelist skips list_select_related when the queryset
        # already selects something.)
        value = super().get_list_select_related(request)
        if is_platform_admin(request.user) and value not in (True, False):
            return (*value, "tenant")
        return value

    # -- the tenant column --
    def get_list_display(self, request):
        list_display = list(super().get_list_display(request))
        if is_platform_admin(request.user) and "tenant" not in list_display:
            list_display.insert(0, "tenant")
        return list_display

    def get_list_display_links(self, request, list_display):
        if self.list_display_links or self.list_display_links is None:
            return self.list_display_links
        own = [name for name in list_display if name != "tenant"]
        return own[:1] or list(list_display)[:1]

    def get_list_filter(self, request):
        filters = []
        for entry in super().get_list_filter(request):
            # A filter on a user foreign key would list every user of the platform.
            if isinstance(entry, str) and _is_user_fk(self.model, entry):
                entry = (entry, admin.RelatedOnlyFieldListFilter)
            filters.append(entry)
        if is_platform_admin(request.user):
            filters.insert(0, "tenant")
        return filters

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and is_platform_admin(request.user) and "tenant" not in readonly:
            readonly.insert(0, "tenant")
        return readonly

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name not in {TENANT_CHOICE_FIELD, "tenant"}]
        if is_platform_admin(request.user):
            fields.insert(0, "tenant" if obj is not None else TENANT_CHOICE_FIELD)
        return fields

    def get_fieldsets(self, request, obj=None):
        if not self.fieldsets:
            return super().get_fieldsets(request, obj)
        fieldsets = list(self.fieldsets)
        if is_platform_admin(request.user):
            first = "tenant" if obj is not None else TENANT_CHOICE_FIELD
            fieldsets.insert(0, (None, {"fields": [first]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._hd_choice_tenant = self._choice_tenant(request, obj)
        base = kwargs.pop("form", None) or self.form
        attrs: dict[str, Any] = {}
        if is_platform_admin(request.user):
            attrs["hd_tenant"] = obj.tenant if obj is not None else None
            if obj is None:
                attrs[TENANT_CHOICE_FIELD] = forms.ModelChoiceField(
                    queryset=Tenant.objects.order_by("name"), label=_("Tenant"),
                    initial=getattr(request, "tenant", None),
                )
        else:
            attrs["hd_tenant"] = getattr(request, "tenant", None)
        form = type(base.__name__, (base,), attrs)
        return super().get_form(request, obj, change=change, form=form, **kwargs)

    # -- writes --
    def save_model(self, request, obj, form, change):
        if obj.tenant_id is None:
            tenant = form.target_tenant() if isinstance(form, TenantScopedForm) else None
            obj.tenant = tenant or request.tenant
        super().save_model(request, obj, form, change)
        if self.audit_writes:
            if change:
                before, after = form_changes(form, secret_fields=self.secret_fields)
                if before or after:
                    admin_audit(request, obj, "changed", before=before, after=after, label=self.audit_label)
            else:
                _before, after = form_changes(form, secret_fields=self.secret_fields)
                admin_audit(request, obj, "created", after=after, label=self.audit_label)

    def delete_model(self, request, obj):
        if self.audit_writes:
            admin_audit(request, obj, "deleted", before={"repr": str(obj)}, label=self.audit_label)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if self.audit_writes:
            for obj in queryset.select_related("tenant"):
                admin_audit(request, obj, "deleted", before={"repr": str(obj)}, label=self.audit_label)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        parent = form.instance
        instances = formset.save(commit=False)
        inline_audit = getattr(formset, "hd_audit_writes", True)
        for obj in formset.deleted_objects:
            if inline_audit and isinstance(obj, TenantOwned):
                admin_audit(request, obj, "deleted", tenant=parent.tenant, before={"repr": str(obj)})
            obj.delete()
        for obj, changed in zip(instances, _changed_forms(formset, instances)):
            created = obj.pk is None
            if isinstance(obj, TenantOwned) and obj.tenant_id is None:
                obj.tenant_id = parent.tenant_id
            obj.save()
            if inline_audit and isinstance(obj, TenantOwned):
                before, after = form_changes(changed) if changed is not None else ({}, {})
                admin_audit(request, obj, "created" if created else "changed", tenant=parent.tenant,
                            before=None if created else before, after=after)
        formset.save_m2m()


def _changed_forms(formset, instances) -> list:
    by_instance = {id(form.instance): form for form in formset.forms}
    return [by_instance.get(id(obj)) for obj in instances]


def _is_user_fk(model, name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:  # a lookup path ("user__email")
        return False
    return bool(field.is_relation and field.related_model is get_user_model())


class TenantScopedInline(_TenantRelationsMixin, admin.options.InlineModelAdmin):
    """Inline of tenant-owned rows: its parent's tenant, its parent admin's permissions."""

    form = TenantScopedForm
    formset = TenantInlineFormSet

    def _parent_admin(self) -> admin.ModelAdmin | None:
        return self.admin_site._registry.get(self.parent_model)

    def _parent_allows(self, request, action: str, obj=None) -> bool:
        """Seeing the rows needs the parent's view permission; editing them its change permission."""
        parent = self._parent_admin()
        if parent is None:
            return is_platform_admin(request.user)
        if action == "view":
            return parent.has_view_permission(request, obj)
        return parent.has_change_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return self._parent_allows(request, "view", obj)

    def has_add_permission(self, request, obj=None):
        return self._parent_allows(request, "add", obj)

    def has_change_permission(self, request, obj=None):
        return self._parent_allows(request, "change", obj)

    def has_delete_permission(self, request, obj=None):
        return self._parent_allows(request, "delete", obj)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if is_platform_admin(request.user):
            return queryset
        tenant = getattr(request, "tenant", None)
        return queryset.filter(tenant=tenant) if tenant is not None else queryset.none()

    def get_formset(self, request, obj=None, **kwargs):
        request._hd_choice_tenant = self._choice_tenant(request, obj)
        fixed = obj.tenant if obj is not None else (
            None if is_platform_admin(request.user) else getattr(request, "tenant", None))
        base = kwargs.pop("form", None) or self.form
        kwargs["form"] = type(base.__name__, (base,), {"hd_tenant": fixed})
        return super().get_formset(request, obj, **kwargs)


class TenantScopedTabularInline(TenantScopedInline):
    template = "admin/edit_inline/tabular.html"


class TenantScopedStackedInline(TenantScopedInline):
    template = "admin/edit_inline/stacked.html"
