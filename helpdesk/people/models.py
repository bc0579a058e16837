"""People: agents (User, email login), customers (Contact + identities), organizations, teams."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from helpdesk.tenancy.models import TenantOwned, validate_timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: agents, admins, reviewers. Global; tenants via Membership."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    locale = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_timezone])
    is_staff = models.BooleanField(_("platform staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(default=dj_timezone.now)
    # Two-factor sign-in (TOTP, RFC 6238). The secret is encrypted at rest.
    totp_secret = EncryptedTextField(blank=True, default="")
    totp_enabled = models.BooleanField(_("two-factor sign-in enabled"), default=False)
    totp_last_counter = models.BigIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return (self.full_name.split() or [self.email])[0]


class Organization(TenantOwned):
    """A customer company; contacts can be matched to it by email domain."""

    name = models.CharField(_("name"), max_length=200)
    domains = models.JSONField(_("email domains"), default=list, blank=True)
    # New contacts whose email domain is in ``domains`` join this organization.
    auto_assign = models.BooleanField(_("add contacts by email domain"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="organization_unique_name")]

    def __str__(self) -> str:
        return self.name


class Team(TenantOwned):
    """A group of agents that work a queue together (routing, reports)."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantOwned):
    """Explicit through-table so the membership row carries the tenant too."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    is_lead = models.BooleanField(_("team lead"), default=False)

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [models.UniqueConstraint(fields=["tenant", "team", "user"], name="teammember_unique")]


class Contact(TenantOwned):
    """A customer. Reached through one or more identities (email, phone, handles)."""

    name = models.CharField(_("name"), max_length=200, blank=True)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="contacts")
    locale = models.CharField(_("language"), max_length=10, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_timezone])
    notes = models.TextField(_("notes"), blank=True)
    # The company's own facts about the customer (plan, customer since, …): shown on the card.
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="contact_tenant_created")]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SOCIAL = "social", _("Social handle")
    EXTERNAL = "external", _("External id")


class ContactIdentity(TenantOwned):
    """One way to reach a contact. Values are stored normalised (see ``people.identities``)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    # For social handles and external ids: the platform ("twitter", "whatsapp", "shop").
    provider = models.CharField(_("provider"), max_length=50, blank=True, default="")
    value = models.CharField(_("value"), max_length=320)
    is_primary = models.BooleanField(_("primary"), default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    # A permanent bounce (5.x.x) to this address: no more mail goes to it until cleared.
    undeliverable_at = models.DateTimeField(_("undeliverable since"), null=True, blank=True)
    undeliverable_reason = models.CharField(_("undeliverable reason"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "provider", "value"], name="identity_unique_value"),
        ]
        indexes = [models.Index(fields=["tenant", "contact"], name="identity_tenant_contact")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CustomerDataIntegration(TenantOwned):
    """The tenant's own shop or CRM, asked for a contact's orders and plan to show on the card.

    The helpdesk POSTs the contact's identities to ``url`` signed with HMAC-SHA256 of
    ``secret`` and shows what comes back; a slow or failing integration shows a notice.
    """

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedTextField(_("signing secret"), blank=True, default="")
    timeout_ms = models.PositiveIntegerField(_("timeout (ms)"), default=2000)
    cache_seconds = models.PositiveIntegerField(_("cache (seconds)"), default=300)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer data integration")
        verbose_name_plural = _("customer data integrations")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="integration_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    ORGANIZATIONS = "organizations", _("Organizations")
    # Rows handled by an app above the core (``imports.register_import_kind``).
    LOCATIONS = "locations", _("Service locations")


# What the contacts pages and ``/api/v1/contacts/imports/`` import and list.
CONTACT_IMPORT_KINDS = (ImportKind.CONTACTS, ImportKind.ORGANIZATIONS)


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class ImportJob(TenantOwned):
    """One uploaded CSV (contacts, organizations, or a registered kind), worked through in batches by a task.

    The file's text is kept (decoded) so a crashed worker resumes from ``processed_rows``;
    ``errors`` lists the rows that were refused, ``[{"row": 7, "message": "…"}]`` (row 1 is
    the header, so the first data row is row 2, as spreadsheets number it).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices,
                              default=ImportStatus.QUEUED)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    source = models.TextField(_("CSV"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="importjob_tenant_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename or self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.COMPLETED or not self.total_rows:
            return 100 if self.status == ImportStatus.COMPLETED else 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.COMPLETED, ImportStatus.FAILED)
