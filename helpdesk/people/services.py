"""Writes of people: teams, contacts and their identities, organizations, contact merges.

Every write is one transaction that records an audit entry (and an event for contacts and
organizations). Inbound traffic of every channel finds its customer through
``contact_resolve``; agents and integrators change contacts through the ``contact_*`` and
``identity_*`` functions; ``contact_merge`` folds a duplicate into the contact that stays.
CSV imports live in ``people.imports``.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import DomainNameValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from helpdesk.audit.services import audit_record
from helpdesk.db.compiled import CompiledQuery
from helpdesk.events.services import event_emit
from helpdesk.people.identities import normalize_identity
from helpdesk.people.models import (
    Contact,
    ContactIdentity,
    IdentityKind,
    Organization,
    Team,
    TeamMember,
)
from helpdesk.tenancy.models import Membership, Tenant, validate_timezone
from helpdesk.tenancy.roles import Cap, Role, Scope, role_has, scope_granted

NAME_MAX = 200
NOTES_MAX = 20_000
MAX_ATTRIBUTES = 100
ATTRIBUTE_KEY_MAX = 100
ATTRIBUTE_VALUE_MAX = 2000
MAX_DOMAINS = 50
PROVIDER_MAX = 50
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_ATTRIBUTE_KEY = re.compile(r"^[\w.\- ]+$")
# pg_advisory_xact_lock namespace for "organization domains of one tenant".
_DOMAIN_LOCK = 7_301


class ContactInUse(ValidationError):
    """The contact still has records that must not disappear with it (tickets): merge instead."""

    code = "contact_in_use"


# --- teams -------------------------------------------------------------------------------


@transaction.atomic
def team_create(*, tenant: Tenant, name: str, description: str = "", actor=None) -> Team:
    team = Team(tenant=tenant, name=name.strip(), description=description)
    team.full_clean()
    team.save()
    audit_record(tenant=tenant, action="team.created", actor=actor, obj=team, after={"name": team.name})
    return team


@transaction.atomic
def team_member_add(*, tenant: Tenant, team: Team, user, is_lead: bool = False, actor=None) -> TeamMember:
    if not Membership.objects.filter(tenant=tenant, user=user, is_active=True).exists():
        raise ValueError("only members of the tenant can join its teams")
    member, created = TeamMember.objects.get_or_create(tenant=tenant, team=team, user=user,
                                                       defaults={"is_lead": is_lead})
    if created:
        audit_record(tenant=tenant, action="team.member_added", actor=actor, obj=team,
                     after={"user": user.email, "is_lead": is_lead})
    return member


def team_create_default(tenant: Tenant) -> Team:
    """Day one: a "Support" team (in the tenant's language) holding the owner."""
    with translation.override(tenant.default_locale):
        name = _("Support")
        description = _("Everyone who answers customers. Add teams per queue or skill as you grow.")
    team = team_create(tenant=tenant, name=name, description=description)
    for membership in Membership.objects.filter(tenant=tenant, role=Role.OWNER).select_related("user"):
        team_member_add(tenant=tenant, team=team, user=membership.user, is_lead=True)
    return team


# --- who may change contacts -----------------------------------------------------------------


def require_contacts_edit(*, tenant: Tenant, actor: Any) -> None:
    """People need ``Cap.CONTACTS_EDIT``, API keys ``contacts:write``; the system (no actor) may.

    The API checks the key's scope and the console the member's capability before calling;
    this is the second wall for every other caller.
    """
    if actor is None:
        return
    api_key = getattr(actor, "api_key", None)
    if api_key is not None:
        if api_key.tenant_id != tenant.pk or not scope_granted(api_key.scopes, Scope.CONTACTS_WRITE):
            raise PermissionDenied(_("This API key may not change contacts."))
        return
    if getattr(actor, "pk", None) is None:
        raise PermissionDenied(_("You are not allowed to do this."))
    role = Membership.objects.filter(tenant=tenant, user=actor, is_active=True).values_list("role", flat=True).first()
    if not role_has(role, Cap.CONTACTS_EDIT):
        raise PermissionDenied(_("You are not allowed to do this."))


def _label(actor: Any) -> str:
    return _("System") if actor is None else str(actor)


# --- validation helpers ------------------------------------------------------------------------


def clean_name(value: Any, *, field: str = "name") -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Enter text.")]})
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise ValidationError({field: [_("Use at most %(max)d characters.") % {"max": NAME_MAX}]})
    return value


def clean_locale(value: Any) -> str:
    value = (value or "").strip() if isinstance(value, str) else value
    if value in ("", None):
        return ""
    if not isinstance(value, str) or not _LOCALE.match(value):
        raise ValidationError({"locale": [_("Enter a language code such as “en” or “pt-BR”.")]})
    return value


def clean_timezone(value: Any) -> str:
    value = (value or "").strip() if isinstance(value, str) else value
    if value in ("", None):
        return ""
    try:
        validate_timezone(value)
    except ValidationError:
        raise ValidationError({"timezone": [_("Enter a time zone such as “Europe/Istanbul”.")]}) from None
    return value


def clean_notes(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({"notes": [_("Enter text.")]})
    if len(value) > NOTES_MAX:
        raise ValidationError({"notes": [_("Use at most %(max)d characters.") % {"max": NOTES_MAX}]})
    return value.strip()


def clean_attributes(value: Any, *, allow_null: bool = False) -> dict:
    """A flat object of scalar values. ``allow_null``: a ``null`` value means "remove this key"."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError({"attributes": [_("Send an object of keys and values.")]})
    if len(value) > MAX_ATTRIBUTES:
        raise ValidationError({"attributes": [_("Use at most %(max)d attributes.") % {"max": MAX_ATTRIBUTES}]})
    cleaned = {}
    for key, item in value.items():
        key = key.strip() if isinstance(key, str) else key
        if not isinstance(key, str) or not key or len(key) > ATTRIBUTE_KEY_MAX or not _ATTRIBUTE_KEY.match(key):
            raise ValidationError({"attributes": [
                _("Attribute names are letters, digits, spaces, dots, dashes and underscores (at most %(max)d).")
                % {"max": ATTRIBUTE_KEY_MAX}]})
        if item is None and not allow_null:
            continue
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise ValidationError({"attributes": [
                _("The value of “%(key)s” must be text, a number or true/false.") % {"key": key}]})
        if isinstance(item, str):
            item = item.strip()
            if len(item) > ATTRIBUTE_VALUE_MAX:
                raise ValidationError({"attributes": [_("The value of “%(key)s” is too long (at most %(max)d "
                                                        "characters).") % {"key": key, "max": ATTRIBUTE_VALUE_MAX}]})
        cleaned[key] = item
    return cleaned


def clean_identity(kind: Any, value: Any, provider: Any = "") -> tuple[str, str, str]:
    """``(kind, provider, value)`` normalised, or a ValidationError naming the field."""
    if kind not in IdentityKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(values)s.") % {"values": ", ".join(IdentityKind.values)}]})
    if not isinstance(value, str):
        raise ValidationError({"value": [_("Enter a value.")]})
    provider = provider.strip().lower() if isinstance(provider, str) else ""
    if kind in (IdentityKind.EMAIL, IdentityKind.PHONE):
        provider = ""
    if len(provider) > PROVIDER_MAX:
        raise ValidationError({"provider": [_("Use at most %(max)d characters.") % {"max": PROVIDER_MAX}]})
    try:
        normalised = normalize_identity(kind, value)
    except ValidationError as exc:
        message = exc.messages[0] if kind != IdentityKind.EMAIL else _("Enter a valid email address.")
        raise ValidationError({"value": [message]}) from None
    if len(normalised) > 320:
        raise ValidationError({"value": [_("Use at most %(max)d characters.") % {"max": 320}]})
    return kind, provider, normalised


def clean_domains(value: Any) -> list[str]:
    """Lower-case domain names, no duplicates; ``"@Example.com"`` becomes ``example.com``."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in re.split(r"[;,\s]+", value) if part]
    if not isinstance(value, (list, tuple)):
        raise ValidationError({"domains": [_("Send a list of domain names.")]})
    if len(value) > MAX_DOMAINS:
        raise ValidationError({"domains": [_("Use at most %(max)d domains.") % {"max": MAX_DOMAINS}]})
    validator = DomainNameValidator(accept_idna=True)
    cleaned: list[str] = []
    for item in value:
        domain = item.strip().lstrip("@").rstrip(".").lower() if isinstance(item, str) else ""
        try:
            if not domain or "." not in domain:
                raise ValidationError("bad")
            validator(domain)
        except ValidationError:
            raise ValidationError({"domains": [_("“%(domain)s” is not a domain name.") % {"domain": item}]}) \
                from None
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


# --- organizations ---------------------------------------------------------------------------


def _lock_domains(tenant: Tenant) -> None:
    """Serialise domain changes of one tenant (so two organizations cannot take one domain at once)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_DOMAIN_LOCK, tenant.pk])


def organizations_with_domain(*, tenant: Tenant, domain: str) -> models.QuerySet:
    """Organizations whose ``domains`` list holds ``domain`` (JSON containment where the
    database has it; SQLite (embedded mode) filters the rows in Python, by primary key)."""
    queryset = Organization.objects.filter(tenant=tenant)
    if connection.features.supports_json_field_contains:
        return queryset.filter(domains__contains=[domain])
    ids = [pk for pk, domains in queryset.values_list("pk", "domains") if domain in (domains or [])]
    return queryset.filter(pk__in=ids)


def organization_for_email(*, tenant: Tenant, email: str) -> Organization | None:
    """The auto-assigning organization of an email address's domain, if one."""
    domain = email.rpartition("@")[2].lower()
    if not domain:
        return None
    return organizations_with_domain(tenant=tenant, domain=domain).filter(auto_assign=True).order_by("pk").first()


def _check_domains_free(*, tenant: Tenant, domains: list[str], exclude_pk: int | None = None) -> None:
    for domain in domains:
        owner = organizations_with_domain(tenant=tenant, domain=domain).exclude(pk=exclude_pk).first()
        if owner is not None:
            raise ValidationError({"domains": [_("The domain %(domain)s already belongs to the organization "
                                                 "“%(name)s”.") % {"domain": domain, "name": owner.name}]})


def _check_org_name_free(*, tenant: Tenant, name: str, exclude_pk: int | None = None) -> None:
    if not name:
        raise ValidationError({"name": [_("Enter a name.")]})
    if Organization.objects.filter(tenant=tenant, name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": [_("An organization named “%(name)s” already exists.") % {"name": name}]})


def _org_state(org: Organization) -> dict:
    return {"name": org.name, "domains": list(org.domains), "auto_assign": org.auto_assign}


@transaction.atomic
def organization_create(*, tenant: Tenant, name: str, domains: Iterable[str] | str = (), auto_assign: bool = False,
                        notes: str = "", actor: Any = None, audit_meta: dict | None = None) -> Organization:
    require_contacts_edit(tenant=tenant, actor=actor)
    name = clean_name(name)
    domains = clean_domains(list(domains) if not isinstance(domains, str) else domains)
    notes = clean_notes(notes)
    _lock_domains(tenant)
    _check_org_name_free(tenant=tenant, name=name)
    _check_domains_free(tenant=tenant, domains=domains)
    org = Organization.objects.create(tenant=tenant, name=name, domains=domains, auto_assign=bool(auto_assign),
                                      notes=notes)
    audit_record(tenant=tenant, action="organization.created", actor=actor, obj=org, after=_org_state(org),
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="organization.created", subject=org, actor=actor,
               payload={"id": org.pk, **_org_state(org)})
    return org


@transaction.atomic
def organization_update(*, organization: Organization, actor: Any = None, audit_meta: dict | None = None,
                        **changes: Any) -> Organization:
    """Change ``name``, ``domains``, ``auto_assign`` and/or ``notes`` (only the keys given)."""
    tenant = organization.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    unknown = set(changes) - {"name", "domains", "auto_assign", "notes"}
    if unknown:
        raise TypeError(f"organization_update: unknown fields {sorted(unknown)}")
    org = Organization.objects.select_for_update().get(tenant=tenant, pk=organization.pk)
    before = _org_state(org)
    if "domains" in changes:
        _lock_domains(tenant)
    if "name" in changes:
        org.name = clean_name(changes["name"])
        _check_org_name_free(tenant=tenant, name=org.name, exclude_pk=org.pk)
    if "domains" in changes:
        org.domains = clean_domains(changes["domains"])
        _check_domains_free(tenant=tenant, domains=org.domains, exclude_pk=org.pk)
    if "auto_assign" in changes:
        org.auto_assign = bool(changes["auto_assign"])
    if "notes" in changes:
        org.notes = clean_notes(changes["notes"])
    org.save()
    after = _org_state(org)
    if after != before or "notes" in changes:
        audit_record(tenant=tenant, action="organization.updated", actor=actor, obj=org, before=before, after=after,
                     **(audit_meta or {}))
        event_emit(tenant=tenant, type="organization.updated", subject=org, actor=actor,
                   payload={"id": org.pk, **after})
    return org


@transaction.atomic
def organization_delete(*, organization: Organization, actor: Any = None, audit_meta: dict | None = None) -> None:
    """Its contacts (and tickets) stay, without an organization."""
    tenant = organization.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    before = _org_state(organization)
    pk = organization.pk
    audit_record(tenant=tenant, action="organization.deleted", actor=actor, obj=organization, before=before,
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="organization.deleted", subject=organization, actor=actor,
               payload={"id": pk, **before})
    organization.delete()


# --- contacts ----------------------------------------------------------------------------------


def _contact_state(contact: Contact) -> dict:
    return {"name": contact.name, "organization_id": contact.organization_id, "locale": contact.locale,
            "timezone": contact.timezone, "attributes": dict(contact.attributes)}


def _identity_conflict(identity: ContactIdentity, *, contact: Contact | None) -> ValidationError:
    if contact is not None and identity.contact_id == contact.pk:
        return ValidationError({"value": [_("This contact already has %(value)s.") % {"value": identity.value}]})
    other = identity.contact
    return ValidationError({"value": [
        _("%(value)s already belongs to the contact “%(name)s” (#%(id)s). Merge the two contacts instead.")
        % {"value": identity.value, "name": other, "id": other.pk}]})


# At most one row (unique per tenant, kind, provider, value): no ORDER BY. Every inbound
# message asks it, so it is compiled once per process (helpdesk.db.compiled).
_IDENTITY = CompiledQuery(
    lambda tenant_id, kind, provider, value: (ContactIdentity.unscoped.filter(
        tenant_id=tenant_id, kind=kind, provider=provider, value=value).select_related("contact")[:1]),
    tenant_id=int, kind=str, provider=str, value=str)


def _existing_identity(*, tenant: Tenant, kind: str, provider: str, value: str) -> ContactIdentity | None:
    found = _IDENTITY.fetch(tenant_id=tenant.pk, kind=kind, provider=provider, value=value)
    return found[0] if found else None


def contact_resolve(*, tenant: Tenant, kind: str, value: str, provider: str = "", name: str = "",
                    assigning_organizations: bool | None = None) -> Contact:
    """The contact reached at this identity, created (with the identity) if none.

    What every channel calls for inbound traffic. ``value`` is normalised first (an email
    is lower-cased, a phone number becomes E.164), so the same person finds the same row.
    A new contact with an email identity joins the organization that claims the address's
    domain when that organization assigns automatically (``assigning_organizations``: whether
    the tenant has such an organization at all, when the caller read it already (inbound mail
    reads it with the mail's row); None: look for one). Safe when the same identity arrives
    twice at once: the loser of the race returns the winner's contact.

    The contact carries the identity it was reached at as ``resolved_identity`` (its
    ``undeliverable_at`` tells whether mail can go there without another query).
    """
    kind, provider, value = clean_identity(kind, value, provider)
    identity = _existing_identity(tenant=tenant, kind=kind, provider=provider, value=value)
    if identity is not None:
        contact = identity.contact
        contact.resolved_identity = identity
        return contact
    name = clean_name((name or "")[:NAME_MAX * 2])[:NAME_MAX]
    if not name:
        name = value.split("@")[0] if kind == IdentityKind.EMAIL else value
    organization = None
    if kind == IdentityKind.EMAIL and assigning_organizations is not False:
        organization = organization_for_email(tenant=tenant, email=value)
    # No savepoint of its own inside the caller's transaction (two round trips a new customer,
    # bench/email_ingest.py): a taken identity is no error here, and nothing else is expected to fail.
    with transaction.atomic(savepoint=False):
        contact = Contact.objects.create(tenant=tenant, name=name[:NAME_MAX], organization=organization)
        identity = ContactIdentity(tenant=tenant, contact=contact, kind=kind, provider=provider, value=value,
                                   is_primary=True)
        if not _insert_unless_taken(identity):
            # The same identity arrived twice at once and the other copy got there first (this
            # insert waited for its transaction): drop the contact made for nothing, use theirs.
            contact.delete()
            identity = ContactIdentity.objects.select_related("contact").get(
                tenant=tenant, kind=kind, provider=provider, value=value)
            contact = identity.contact
            contact.resolved_identity = identity
            return contact
        audit_record(tenant=tenant, action="contact.created", actor_label=_("System"), obj=contact,
                     after={"kind": kind, "value": value, "name": contact.name,
                            "organization_id": contact.organization_id})
        event_emit(tenant=tenant, type="contact.created", subject=contact,
                   payload={"id": contact.pk, "name": contact.name, "identity": {"kind": kind, "value": value}})
    contact.resolved_identity = identity
    return contact


def _insert_unless_taken(identity: ContactIdentity) -> bool:
    """INSERT … ON CONFLICT DO NOTHING RETURNING the id (PostgreSQL and SQLite): True and
    ``identity.pk`` set when the row went in, False when (tenant, kind, provider, value) is
    taken. One statement, where a savepoint to catch the IntegrityError costs two more."""
    from django.db.models.constants import OnConflict
    from django.db.models.sql.subqueries import InsertQuery

    opts = ContactIdentity._meta
    fields = [f for f in opts.local_concrete_fields if f is not opts.pk]
    query = InsertQuery(ContactIdentity, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [identity])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [opts.pk]
    (sql, params), = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    identity.pk = row[0]
    identity._state.adding = False
    identity._state.db = connection.alias
    return True


def _add_identity(*, contact: Contact, kind: str, provider: str, value: str, is_primary: bool) -> ContactIdentity:
    """Precondition: inside a transaction; values clean. Conflicts are a ValidationError."""
    tenant = contact.tenant
    existing = _existing_identity(tenant=tenant, kind=kind, provider=provider, value=value)
    if existing is not None:
        raise _identity_conflict(existing, contact=contact)
    has_primary = ContactIdentity.objects.filter(tenant=tenant, contact=contact, kind=kind, is_primary=True)
    if is_primary:
        has_primary.update(is_primary=False)
    elif not has_primary.exists():
        is_primary = True  # the first of its kind is the one used
    try:
        with transaction.atomic():
            return ContactIdentity.objects.create(tenant=tenant, contact=contact, kind=kind, provider=provider,
                                                  value=value, is_primary=is_primary)
    except IntegrityError:
        existing = _existing_identity(tenant=tenant, kind=kind, provider=provider, value=value)
        if existing is None:
            raise
        raise _identity_conflict(existing, contact=contact) from None


@transaction.atomic
def contact_create(*, tenant: Tenant, actor: Any = None, name: str = "", organization: Organization | None = None,
                   locale: str = "", timezone: str = "", notes: str = "", attributes: Mapping | None = None,
                   identities: Iterable[Mapping] = (), audit_meta: dict | None = None) -> Contact:
    """A contact with its identities (``{"kind", "value", "provider"?, "is_primary"?}``).

    Without an organization, the first email identity's domain may assign one (see
    ``contact_resolve``). An identity that already belongs to someone refuses the whole
    creation, naming that contact.
    """
    require_contacts_edit(tenant=tenant, actor=actor)
    if organization is not None and organization.tenant_id != tenant.pk:
        raise ValidationError({"organization_id": [_("No such organization.")]})
    cleaned = []
    for index, item in enumerate(identities):
        try:
            cleaned.append((*clean_identity(item.get("kind"), item.get("value"), item.get("provider", "")),
                            bool(item.get("is_primary", False))))
        except ValidationError as exc:
            raise ValidationError({f"identities.{index}.{key}": messages
                                   for key, messages in exc.message_dict.items()}) from None
    contact = Contact(tenant=tenant, name=clean_name(name), organization=organization, locale=clean_locale(locale),
                      timezone=clean_timezone(timezone), notes=clean_notes(notes),
                      attributes=clean_attributes(attributes))
    if contact.organization is None:
        email = next((value for kind, _p, value, _primary in cleaned if kind == IdentityKind.EMAIL), None)
        if email:
            contact.organization = organization_for_email(tenant=tenant, email=email)
    if not contact.name and cleaned:
        kind, _provider, value, _primary = cleaned[0]
        contact.name = value.split("@")[0] if kind == IdentityKind.EMAIL else value
    contact.save()
    added = []
    for index, (kind, provider, value, is_primary) in enumerate(cleaned):
        try:
            added.append(_add_identity(contact=contact, kind=kind, provider=provider, value=value,
                                       is_primary=is_primary))
        except ValidationError as exc:
            raise ValidationError({f"identities.{index}.value": exc.message_dict.get("value", exc.messages)}) \
                from None
    state = {**_contact_state(contact), "identities": [f"{i.kind}:{i.value}" for i in added]}
    audit_record(tenant=tenant, action="contact.created", actor=actor, obj=contact, after=state,
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="contact.created", subject=contact, actor=actor,
               payload={"id": contact.pk, "name": contact.name})
    return contact


_CONTACT_FIELDS = {"name", "organization", "locale", "timezone", "notes", "attributes"}


@transaction.atomic
def contact_update(*, contact: Contact, actor: Any = None, audit_meta: dict | None = None,
                   replace_attributes: bool = False, **changes: Any) -> Contact:
    """Change the given fields. ``attributes`` merge into the stored ones (a ``None`` value
    removes its key) unless ``replace_attributes``."""
    tenant = contact.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    unknown = set(changes) - _CONTACT_FIELDS
    if unknown:
        raise TypeError(f"contact_update: unknown fields {sorted(unknown)}")
    row = Contact.objects.select_for_update().get(tenant=tenant, pk=contact.pk)
    before = _contact_state(row)
    if "name" in changes:
        row.name = clean_name(changes["name"])
    if "organization" in changes:
        organization = changes["organization"]
        if organization is not None and organization.tenant_id != tenant.pk:
            raise ValidationError({"organization_id": [_("No such organization.")]})
        row.organization = organization
    if "locale" in changes:
        row.locale = clean_locale(changes["locale"])
    if "timezone" in changes:
        row.timezone = clean_timezone(changes["timezone"])
    if "notes" in changes:
        row.notes = clean_notes(changes["notes"])
    if "attributes" in changes:
        incoming = clean_attributes(changes["attributes"], allow_null=not replace_attributes)
        merged = {} if replace_attributes else dict(row.attributes)
        for key, item in incoming.items():
            if item is None:
                merged.pop(key, None)
            else:
                merged[key] = item
        if len(merged) > MAX_ATTRIBUTES:
            raise ValidationError({"attributes": [_("Use at most %(max)d attributes.") % {"max": MAX_ATTRIBUTES}]})
        row.attributes = merged
    row.save()
    after = _contact_state(row)
    if after != before or "notes" in changes:
        changed = {key: after[key] for key in after if after[key] != before[key]}
        audit_record(tenant=tenant, action="contact.updated", actor=actor, obj=row,
                     before={key: before[key] for key in changed}, after=changed, **(audit_meta or {}))
        event_emit(tenant=tenant, type="contact.updated", subject=row, actor=actor,
                   payload={"id": row.pk, "changes": sorted(changed)})
    return row


def _reverse_relations(model=Contact) -> list:
    """Every foreign key (and one-to-one) of any installed model that points at ``model``,
    including those declared with ``related_name="+"`` (``_meta.related_objects`` hides them)
    and the auto-created through tables of many-to-many fields."""
    return [rel for rel in model._meta.get_fields(include_hidden=True)
            if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)]


def contact_blockers(*, contact: Contact) -> list[str]:
    """What keeps the contact from being deleted: rows that point at it with PROTECT/RESTRICT."""
    blockers = []
    for rel in _reverse_relations():
        if rel.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        if rel.related_model._base_manager.filter(**{rel.field.name: contact}).exists():
            blockers.append(str(rel.related_model._meta.verbose_name_plural))
    return blockers


@transaction.atomic
def contact_delete(*, contact: Contact, actor: Any = None, audit_meta: dict | None = None) -> None:
    """Delete a contact with no tickets (or other protected records); its identities go too."""
    tenant = contact.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    contact = Contact.objects.select_for_update().get(tenant=tenant, pk=contact.pk)
    blockers = contact_blockers(contact=contact)
    if blockers:
        raise ContactInUse(_("%(name)s cannot be deleted while they have %(records)s. Merge them into another "
                             "contact instead.") % {"name": contact, "records": ", ".join(blockers)},
                           code=ContactInUse.code)
    identities = [f"{kind}:{value}" for kind, value in contact.identities.values_list("kind", "value")]
    before = {**_contact_state(contact), "identities": identities}
    audit_record(tenant=tenant, action="contact.deleted", actor=actor, obj=contact, before=before,
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="contact.deleted", subject=contact, actor=actor,
               payload={"id": contact.pk, "name": contact.name})
    contact.delete()


@transaction.atomic
def identity_add(*, contact: Contact, kind: str, value: str, provider: str = "", is_primary: bool = False,
                 actor: Any = None, audit_meta: dict | None = None) -> ContactIdentity:
    """Add a way to reach the contact. A value held by another contact is refused, naming it."""
    tenant = contact.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    kind, provider, value = clean_identity(kind, value, provider)
    contact = Contact.objects.select_for_update().get(tenant=tenant, pk=contact.pk)
    identity = _add_identity(contact=contact, kind=kind, provider=provider, value=value, is_primary=is_primary)
    audit_record(tenant=tenant, action="contact.identity_added", actor=actor, obj=contact,
                 after={"kind": kind, "provider": provider, "value": value, "is_primary": identity.is_primary},
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="contact.updated", subject=contact, actor=actor,
               payload={"id": contact.pk, "changes": ["identities"]})
    return identity


@transaction.atomic
def identity_remove(*, identity: ContactIdentity, actor: Any = None, audit_meta: dict | None = None) -> None:
    """Remove one identity. Removing the last one is allowed (the contact stays, reachable by
    no channel until one is added) and the audit entry says so."""
    tenant = identity.tenant
    require_contacts_edit(tenant=tenant, actor=actor)
    contact = Contact.objects.select_for_update().get(tenant=tenant, pk=identity.contact_id)
    identity = ContactIdentity.objects.get(tenant=tenant, pk=identity.pk, contact=contact)
    identity.delete()
    remaining = ContactIdentity.objects.filter(tenant=tenant, contact=contact)
    if identity.is_primary:
        successor = remaining.filter(kind=identity.kind).order_by("created_at", "pk").first()
        if successor is not None:
            remaining.filter(pk=successor.pk).update(is_primary=True)
    left = remaining.count()
    audit_record(tenant=tenant, action="contact.identity_removed", actor=actor, obj=contact,
                 before={"kind": identity.kind, "provider": identity.provider, "value": identity.value},
                 after={"identities_left": left, **({"warning": "no identity left"} if not left else {})},
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="contact.updated", subject=contact, actor=actor,
               payload={"id": contact.pk, "changes": ["identities"]})


# --- merging -----------------------------------------------------------------------------------


def _unique_sets(model, field) -> list[tuple[list[str], Q | None]]:
    """The unique column sets of ``model`` that include ``field``, each with its condition."""
    sets: list[tuple[list[str], Q | None]] = []
    if field.unique:
        sets.append(([field.name], None))
    for together in model._meta.unique_together:
        if field.name in together:
            sets.append((list(together), None))
    for constraint in model._meta.total_unique_constraints + [
            c for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and c.condition is not None and c.fields]:
        if field.name in constraint.fields and (list(constraint.fields), constraint.condition) not in sets:
            sets.append((list(constraint.fields), constraint.condition))
    return sets


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _move_rows(rel, *, source: Contact, target: Contact) -> tuple[int, int]:
    """Point every row of ``rel`` at ``target``; rows that would break a unique constraint
    (the target already has the same row, e.g. a CC on the same ticket) are dropped.
    Returns (moved, dropped)."""
    model, field = rel.related_model, rel.field
    manager = model._base_manager
    from_source = manager.filter(**{field.name: source})
    dropped = 0
    for names, condition in _unique_sets(model, field):
        others = [_attname(model, n) for n in names if n != field.name]
        source_rows = from_source.filter(condition) if condition is not None else from_source
        target_rows = manager.filter(**{field.name: target})
        if condition is not None:
            target_rows = target_rows.filter(condition)
        if not others:  # one-to-one: the target keeps its own row
            clash_ids = list(source_rows.values_list("pk", flat=True)) if target_rows.exists() else []
        else:
            taken = set(target_rows.values_list(*others))
            clash_ids = [row[0] for row in source_rows.values_list("pk", *others) if tuple(row[1:]) in taken]
        if clash_ids:
            dropped += len(clash_ids)
            manager.filter(pk__in=clash_ids).delete()
    moved = from_source.update(**{field.name: target})
    return moved, dropped


@transaction.atomic
def contact_merge(*, tenant: Tenant, source: Contact, target: Contact, actor: Any = None,
                  audit_meta: dict | None = None) -> Contact:
    """Fold ``source`` into ``target`` and delete ``source``; returns the target.

    Everything that points at the source moves: found generically from the foreign keys of
    every installed model (tickets, CCs, message authors, and whatever later apps add), so
    a new relation cannot be forgotten. A row that would duplicate one the target already
    has (same ticket CC'd twice) is dropped; identities all move (the target's primary of
    each kind stays primary); attributes merge with the target winning; notes are appended;
    an empty name, organization, language or time zone is taken from the source.

    Both contacts are locked (in id order, so two merges of the same pair cannot deadlock),
    which also stops new rows from pointing at the source while it moves.
    """
    require_contacts_edit(tenant=tenant, actor=actor)
    if source.pk == target.pk:
        raise ValidationError({"source_id": [_("A contact cannot be merged into itself.")]})
    locked = {c.pk: c for c in Contact.objects.select_for_update().filter(
        tenant=tenant, pk__in=[source.pk, target.pk]).order_by("pk")}
    if source.pk not in locked or target.pk not in locked:
        raise ValidationError({"source_id": [_("No such contact.")]})
    source, target = locked[source.pk], locked[target.pk]
    source_identities = [f"{kind}:{value}" for kind, value in
                         ContactIdentity.objects.filter(tenant=tenant, contact=source).values_list("kind", "value")]
    before = {"source": {"id": source.pk, **_contact_state(source), "identities": source_identities,
                         "notes": source.notes},
              "target": {"id": target.pk, **_contact_state(target)}}
    primary_kinds = set(ContactIdentity.objects.filter(tenant=tenant, contact=target, is_primary=True)
                        .values_list("kind", flat=True))
    moved_identity_ids = list(ContactIdentity.objects.filter(tenant=tenant, contact=source, kind__in=primary_kinds)
                              .values_list("pk", flat=True))

    moved: dict[str, int] = {}
    dropped: dict[str, int] = {}
    for rel in _reverse_relations():
        count, duplicates = _move_rows(rel, source=source, target=target)
        label = f"{rel.related_model._meta.label_lower}.{rel.field.name}"
        if count:
            moved[label] = count
        if duplicates:
            dropped[label] = duplicates
    if moved_identity_ids:
        ContactIdentity.objects.filter(tenant=tenant, pk__in=moved_identity_ids).update(is_primary=False)

    target.attributes = {**source.attributes, **target.attributes}
    if source.notes:
        target.notes = f"{target.notes}\n\n{source.notes}".strip() if target.notes else source.notes
    for name in ("name", "locale", "timezone"):
        if not getattr(target, name):
            setattr(target, name, getattr(source, name))
    if target.organization_id is None:
        target.organization_id = source.organization_id
    target.save()
    source_pk = source.pk
    source.delete()
    after = {"target": {"id": target.pk, **_contact_state(target)}, "source_id": source_pk,
             "moved": moved, "dropped_duplicates": dropped}
    audit_record(tenant=tenant, action="contact.merged", actor=actor, obj=target, before=before, after=after,
                 **(audit_meta or {}))
    event_emit(tenant=tenant, type="contact.merged", subject=target, actor=actor,
               payload={"source_id": source_pk, "target_id": target.pk, "moved": moved})
    return target
