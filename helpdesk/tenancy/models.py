"""Tenant, its host names, memberships with roles, API keys, and the TenantOwned base."""
from __future__ import annotations

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.fields.related_lookups import RelatedExact
from django.db.models.sql.where import AND
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.context import NoTenant, current_tenant_id, is_unscoped
from helpdesk.tenancy.roles import Role

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1-50 lower-case letters, digits and hyphens; no hyphen at either end."),
)
RESERVED_SLUGS = {"www", "api", "admin", "static", "media", "app", "mail", "console", "status"}


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(value)s"), params={"value": value})


def validate_slug_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This name is reserved."))


class Tenant(models.Model):
    """A company served by this deployment. Not tenant-owned itself (no RLS)."""

    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, validators=[slug_validator, validate_slug_not_reserved]
    )
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    default_locale = models.CharField(_("default language"), max_length=10, default="en",
                                      choices=settings.LANGUAGES)
    brand_name = models.CharField(_("brand name"), max_length=200, blank=True)
    brand_color = models.CharField(
        _("brand colour"), max_length=7, default="#1f6feb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour such as #1f6feb."))],
    )
    logo = models.FileField(_("logo"), upload_to="tenant-logos/", blank=True)
    require_two_factor = models.BooleanField(
        _("require two-factor sign-in"), default=False,
        help_text=_("Every member must sign in with an authenticator code."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    @property
    def primary_host(self) -> str:
        domain = next((d.domain for d in self.domains.all() if d.is_primary), None)
        return domain or f"{self.slug}.{settings.BASE_DOMAIN}"

    def blocks_without_two_factor(self, user) -> bool:
        """True when ``user`` must enrol in two-factor sign-in before using this tenant
        (console pages, websocket, API through the session, admin)."""
        return self.require_two_factor and not getattr(user, "totp_enabled", False)

    def absolute_url(self, path: str = "/") -> str:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        return f"{settings.PUBLIC_SCHEME}://{self.primary_host}{port}{path}"


class TenantDomain(models.Model):
    """A custom host name for a tenant. Routing data read before the tenant is known."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("custom domain")
        verbose_name_plural = _("custom domains")

    def __str__(self) -> str:
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().rstrip(".")
        super().save(*args, **kwargs)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: rows of the tenant in context, or none.

    The filter is applied when the queryset is built, so build querysets per request
    (never as class attributes). Cross-tenant code uses ``Model.unscoped`` inside
    ``dangerously_unscoped()``.
    """

    def get_queryset(self):
        qs = super().get_queryset()
        if is_unscoped():
            return qs
        tenant_id = current_tenant_id()
        if tenant_id is None:
            return qs.none()
        # What ``qs.filter(tenant_id=tenant_id)`` adds, without resolving the name through
        # the lookup machinery and cloning: every ORM statement starts here, and the
        # generic path cost 35 µs of the 37 µs (bench/email_ingest.py: ~15 per mail).
        query = qs.query
        field = self.model._meta.get_field("tenant")
        query.where.add(RelatedExact(field.get_col(query.get_initial_alias()), tenant_id), AND)
        return qs


def tenant_key(*, db_index: bool = True) -> models.ForeignKey:
    """The ``tenant`` column of a tenant-owned table. A busy table whose composite indexes all
    lead with ``tenant_id`` (and whose unique constraint does) overrides it with
    ``db_index=False``: the single-column index would only cost every write."""
    return models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False,
                             db_index=db_index)


class TenantOwned(models.Model):
    """Base of every tenant-owned table: carries ``tenant`` and gets RLS on PostgreSQL."""

    tenant = tenant_key()

    objects = TenantManager()
    unscoped = models.Manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Invariant on one row: it belongs to the tenant in context (no cross-tenant writes).
        context_tenant = current_tenant_id()
        if self.tenant_id is None:
            if context_tenant is None:
                raise NoTenant(f"{type(self).__name__} saved without a tenant")
            self.tenant_id = context_tenant
        elif context_tenant is not None and self.tenant_id != context_tenant and not is_unscoped():
            raise NoTenant(f"{type(self).__name__} of tenant {self.tenant_id} saved as tenant {context_tenant}")
        super().save(*args, **kwargs)


class Membership(TenantOwned):
    """A person's place in a tenant: one role, mapped to capabilities in ``roles``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user")]
        indexes = [models.Index(fields=["tenant", "role"], name="membership_tenant_role")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant_id} ({self.role})"


API_KEY_PREFIX = "hk"


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(TenantOwned):
    """An integrator's credential: shown once, stored as a SHA-256 hash, scoped."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        indexes = [models.Index(fields=["tenant", "created_at"], name="apikey_tenant_created")]

    def __str__(self) -> str:
        return f"{self.name} ({API_KEY_PREFIX}_{self.prefix}_…)"

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """Return (raw key, prefix, hash). The raw key is never stored."""
        prefix = secrets.token_hex(6)
        raw = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        return raw, prefix, hash_api_key(raw)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
