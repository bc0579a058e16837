"""Creating and changing channels, and recognising a channel by its key and secret."""
from __future__ import annotations

import hmac
import secrets
from typing import Any, Mapping

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels_hub.models import Channel, ChannelKind, MailSecurity, hash_channel_secret
from helpdesk.audit.services import audit_record
from helpdesk.tenancy.context import dangerously_unscoped, tenant_scope
from helpdesk.tenancy.models import Tenant
from tickets.services.common import actor_label, require_settings_manage

# Fields a channel's owner may set, per kind (secrets are write-only).
EMAIL_FIELDS = ("name", "address", "from_name", "is_default", "token_prefix", "acknowledge", "is_active",
                "smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password",
                "imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder",
                "imap_interval_seconds", "sender_hourly_limit", "channel_hourly_limit", "blocked_senders",
                "allowed_senders")
CONNECTOR_FIELDS = ("name", "provider", "webhook_url", "is_active")
SECRET_FIELDS = ("smtp_password", "imap_password")
MIN_POLL_SECONDS = 30
MAX_SENDER_ENTRIES = 500


def _fields_for(kind: str) -> tuple[str, ...]:
    return EMAIL_FIELDS if kind == ChannelKind.EMAIL else CONNECTOR_FIELDS


def clean_sender_list(name: str, values: Any) -> list[str]:
    """Addresses ("a@b.com") or whole domains ("@b.com"), lower-cased, de-duplicated."""
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = [v for v in values.replace(",", "\n").splitlines()]
    if not isinstance(values, (list, tuple)):
        raise ValidationError({name: [_("List addresses or @domains.")]})
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationError({name: [_("List addresses or @domains.")]})
        value = value.strip().lower()
        if not value:
            continue
        probe = f"x{value}" if value.startswith("@") else value
        try:
            validate_email(probe)
        except ValidationError:
            raise ValidationError({name: [_("%(value)s is neither an address nor an @domain.") % {
                "value": value[:100]}]}) from None
        if value not in out:
            out.append(value)
    if len(out) > MAX_SENDER_ENTRIES:
        raise ValidationError({name: [_("At most %(max)d entries.") % {"max": MAX_SENDER_ENTRIES}]})
    return out


def sender_matches(address: str, entries: list[str]) -> bool:
    address = (address or "").lower()
    domain = "@" + address.rpartition("@")[2]
    return address in entries or domain in entries


def _clean(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    allowed = _fields_for(kind)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValidationError({name: [_("Not a setting of this kind of channel.")] for name in unknown})
    out = dict(values)
    if "name" in out:
        out["name"] = str(out["name"] or "").strip()[:100]
        if not out["name"]:
            raise ValidationError({"name": [_("Give the channel a name.")]})
    if "address" in out:
        address = str(out["address"] or "").strip().lower()
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"address": [_("Enter the support address (for example support@example.com).")]}) \
                from None
        out["address"] = address
    for name in ("smtp_security", "imap_security"):
        if name in out and out[name] not in MailSecurity.values:
            raise ValidationError({name: [_("Choose one of: %(values)s.") % {"values": ", ".join(MailSecurity.values)}]})
    for name in ("smtp_port", "imap_port"):
        if name in out:
            try:
                port = int(out[name])
            except (TypeError, ValueError):
                port = 0
            if not 1 <= port <= 65535:
                raise ValidationError({name: [_("Enter a port between 1 and 65535.")]})
            out[name] = port
    for name in ("imap_interval_seconds", "sender_hourly_limit", "channel_hourly_limit"):
        if name in out:
            try:
                out[name] = int(out[name])
            except (TypeError, ValueError):
                raise ValidationError({name: [_("Enter a whole number.")]}) from None
            if out[name] < 0 or out[name] > 1_000_000:
                raise ValidationError({name: [_("Enter a whole number.")]})
    if out.get("imap_interval_seconds") is not None and out["imap_interval_seconds"] < MIN_POLL_SECONDS:
        raise ValidationError({"imap_interval_seconds": [_("Poll at most every %(s)d seconds.") % {
            "s": MIN_POLL_SECONDS}]})
    for name in ("blocked_senders", "allowed_senders"):
        if name in out:
            out[name] = clean_sender_list(name, out[name])
    if "token_prefix" in out:
        prefix = str(out["token_prefix"] or "").strip()
        if not prefix or len(prefix) > 10 or any(c in prefix for c in "[] \t"):
            raise ValidationError({"token_prefix": [_("Use 1 to 10 characters without brackets or spaces.")]})
        out["token_prefix"] = prefix
    if out.get("webhook_url"):
        try:
            URLValidator(schemes=["http", "https"])(out["webhook_url"])
        except ValidationError:
            raise ValidationError({"webhook_url": [_("Enter an http or https URL.")]}) from None
    for name in ("smtp_host", "imap_host", "smtp_username", "imap_username", "imap_folder", "from_name",
                 "provider"):
        if name in out:
            out[name] = str(out[name] or "").strip()
    if "imap_folder" in out and not out["imap_folder"]:
        out["imap_folder"] = "INBOX"
    return out


def _save(channel: Channel) -> None:
    try:
        with transaction.atomic():
            if channel.is_default and channel.kind == ChannelKind.EMAIL:
                Channel.objects.filter(tenant_id=channel.tenant_id, kind=ChannelKind.EMAIL, is_default=True) \
                    .exclude(pk=channel.pk).update(is_default=False)
            channel.save()
    except IntegrityError:
        raise ValidationError({"name": [_("Another channel has this name.")]}) from None


def _audit_view(channel: Channel) -> dict:
    values = {name: getattr(channel, name) for name in _fields_for(channel.kind) if name not in SECRET_FIELDS}
    values["kind"] = channel.kind
    return values


def channel_create(*, tenant: Tenant, actor: Any, kind: str, values: Mapping[str, Any]) -> tuple[Channel, str]:
    """A new channel and its secret (returned once: only its hash is kept).

    The tenant's first email channel becomes the default for outgoing mail.
    """
    if kind not in ChannelKind.values:
        raise ValidationError({"kind": [_("Choose one of: %(values)s.") % {"values": ", ".join(ChannelKind.values)}]})
    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        cleaned = _clean(kind, values)
        if "name" not in cleaned:
            raise ValidationError({"name": [_("Give the channel a name.")]})
        if kind == ChannelKind.EMAIL and "address" not in cleaned:
            raise ValidationError({"address": [_("Enter the support address (for example support@example.com).")]})
        raw, digest = Channel.generate_secret()
        channel = Channel(tenant=tenant, kind=kind, secret_hash=digest, **cleaned)
        if kind == ChannelKind.CONNECTOR:
            channel.signing_secret = new_signing_secret()  # shown once, with the channel
        if kind == ChannelKind.EMAIL and "is_default" not in cleaned:
            channel.is_default = not Channel.objects.filter(tenant=tenant, kind=kind, is_default=True).exists()
        _save(channel)
        audit_record(tenant=tenant, action="channel.created", actor=actor, actor_label=actor_label(actor),
                     obj=channel, after=_audit_view(channel))
        return channel, raw


def channel_update(*, channel: Channel, actor: Any, values: Mapping[str, Any]) -> Channel:
    tenant = channel.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        cleaned = _clean(channel.kind, values)
        before = _audit_view(channel)
        for name, value in cleaned.items():
            if name in SECRET_FIELDS and value in (None, ""):
                continue  # a blank password field keeps the stored one
            setattr(channel, name, value)
        if {"imap_host", "imap_interval_seconds", "is_active"} & set(cleaned):
            channel.imap_next_poll_at = None  # poll soon with the new settings
        _save(channel)
        changed_secrets = sorted(n for n in SECRET_FIELDS if cleaned.get(n))
        audit_record(tenant=tenant, action="channel.updated", actor=actor, actor_label=actor_label(actor),
                     obj=channel, before=before, after={**_audit_view(channel), "secrets_changed": changed_secrets})
        return channel


def channel_rotate_secret(*, channel: Channel, actor: Any) -> str:
    tenant = channel.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        raw, digest = Channel.generate_secret()
        channel.secret_hash = digest
        channel.save(update_fields=["secret_hash", "updated_at"])
        audit_record(tenant=tenant, action="channel.secret_rotated", actor=actor, actor_label=actor_label(actor),
                     obj=channel)
        return raw


def new_signing_secret() -> str:
    """The key a connector's reply webhooks are signed with (HMAC-SHA256), known to the bridge."""
    return f"chsig_{secrets.token_urlsafe(32)}"


def channel_rotate_signing_secret(*, channel: Channel, actor: Any) -> str:
    """A new signing secret for a connector channel's reply webhooks (returned once)."""
    tenant = channel.tenant
    if channel.kind != ChannelKind.CONNECTOR:
        raise ValidationError({"kind": [_("Only connector channels sign reply webhooks.")]})
    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        channel.signing_secret = new_signing_secret()
        channel.save(update_fields=["signing_secret", "updated_at"])
        audit_record(tenant=tenant, action="channel.signing_secret_rotated", actor=actor,
                     actor_label=actor_label(actor), obj=channel)
        return channel.signing_secret


def channel_delete(*, channel: Channel, actor: Any) -> None:
    tenant = channel.tenant
    with transaction.atomic(), tenant_scope(tenant):
        require_settings_manage(tenant=tenant, actor=actor)
        audit_record(tenant=tenant, action="channel.deleted", actor=actor, actor_label=actor_label(actor),
                     obj=channel, before=_audit_view(channel))
        channel.delete()


def channel_by_key(key: str, *, kind: str | None = None) -> Channel | None:
    """The active channel named by a public key (any tenant: the key names its tenant)."""
    if not key or len(key) > 40:
        return None
    with dangerously_unscoped():
        channel = Channel.unscoped.select_related("tenant").filter(key=key, is_active=True).first()
    if channel is None or not channel.tenant.is_active or (kind and channel.kind != kind):
        return None
    return channel


def channel_authenticate(key: str, raw_secret: str | None, *, kind: str | None = None) -> Channel | None:
    """The channel if ``raw_secret`` is its secret; None otherwise (unknown, inactive, wrong)."""
    channel = channel_by_key(key, kind=kind)
    if channel is None or not raw_secret or not channel.secret_hash:
        return None
    if not hmac.compare_digest(channel.secret_hash, hash_channel_secret(raw_secret)):
        return None
    return channel


def default_email_channel(*, tenant: Tenant) -> Channel | None:
    return (Channel.objects.filter(tenant=tenant, kind=ChannelKind.EMAIL, is_active=True)
            .order_by("-is_default", "created_at").first())
