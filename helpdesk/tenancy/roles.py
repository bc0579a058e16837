"""Roles and what each may do: the one place authorization is declared (default-deny)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    AGENT = "agent", _("Agent")
    LIGHT_AGENT = "light_agent", _("Light agent")
    QA_REVIEWER = "qa_reviewer", _("QA reviewer")
    ANALYST = "analyst", _("Analyst")


class Cap(models.TextChoices):
    """Capabilities. Later issues add theirs here and grant them below."""

    CONSOLE_ACCESS = "console.access", _("Use the agent console")
    TICKETS_VIEW = "tickets.view", _("See tickets")
    TICKETS_REPLY = "tickets.reply", _("Reply publicly to customers")
    TICKETS_NOTE = "tickets.note", _("Write internal notes")
    TICKETS_EDIT = "tickets.edit", _("Change ticket properties")
    CONTACTS_VIEW = "contacts.view", _("See contacts")
    CONTACTS_EDIT = "contacts.edit", _("Edit contacts")
    KB_VIEW = "kb.view", _("See help-center content")
    KB_EDIT = "kb.edit", _("Write help-center content")
    KB_PUBLISH = "kb.publish", _("Publish help-center content and arrange its structure")
    QA_REVIEW = "qa.review", _("Score conversations")
    REPORTS_VIEW = "reports.view", _("Read reports")
    SETTINGS_MANAGE = "settings.manage", _("Change helpdesk settings")
    MEMBERS_MANAGE = "members.manage", _("Manage people and roles")
    API_KEYS_MANAGE = "api_keys.manage", _("Manage API keys")
    WEBHOOKS_MANAGE = "webhooks.manage", _("Manage webhooks")
    ADMIN_SITE = "admin.site", _("Use the administration site")
    BILLING_MANAGE = "billing.manage", _("Manage the subscription")


_AGENT = {
    Cap.CONSOLE_ACCESS, Cap.TICKETS_VIEW, Cap.TICKETS_REPLY, Cap.TICKETS_NOTE, Cap.TICKETS_EDIT,
    Cap.CONTACTS_VIEW, Cap.CONTACTS_EDIT, Cap.KB_VIEW, Cap.KB_EDIT,
}
_ADMIN = _AGENT | {
    Cap.KB_PUBLISH, Cap.QA_REVIEW, Cap.REPORTS_VIEW, Cap.SETTINGS_MANAGE, Cap.MEMBERS_MANAGE,
    Cap.API_KEYS_MANAGE, Cap.WEBHOOKS_MANAGE, Cap.ADMIN_SITE,
}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(_ADMIN | {Cap.BILLING_MANAGE}),
    Role.ADMIN: frozenset(_ADMIN),
    Role.AGENT: frozenset(_AGENT),
    # Light agents see tickets and write internal notes, never public replies.
    Role.LIGHT_AGENT: frozenset({Cap.CONSOLE_ACCESS, Cap.TICKETS_VIEW, Cap.TICKETS_NOTE, Cap.CONTACTS_VIEW,
                                 Cap.KB_VIEW}),
    Role.QA_REVIEWER: frozenset({Cap.CONSOLE_ACCESS, Cap.TICKETS_VIEW, Cap.TICKETS_NOTE, Cap.QA_REVIEW,
                                 Cap.REPORTS_VIEW, Cap.KB_VIEW, Cap.CONTACTS_VIEW}),
    Role.ANALYST: frozenset({Cap.CONSOLE_ACCESS, Cap.REPORTS_VIEW}),
}


def role_has(role: str | None, capability: str) -> bool:
    if role is None:
        return False
    return capability in CAPABILITIES.get(role, frozenset())


class Scope(models.TextChoices):
    """API key scopes. ``<area>:read`` / ``<area>:write``; write implies read."""

    TICKETS_READ = "tickets:read", _("Read tickets")
    TICKETS_WRITE = "tickets:write", _("Create and change tickets")
    CONTACTS_READ = "contacts:read", _("Read contacts")
    CONTACTS_WRITE = "contacts:write", _("Create and change contacts")
    KB_READ = "kb:read", _("Read help-center content")
    KB_WRITE = "kb:write", _("Write help-center content")
    REPORTS_READ = "reports:read", _("Read reports")
    WEBHOOKS_READ = "webhooks:read", _("Read webhooks")
    WEBHOOKS_WRITE = "webhooks:write", _("Manage webhooks")
    CHANNELS_READ = "channels:read", _("Read channels")
    CHANNELS_WRITE = "channels:write", _("Manage channels")
    # Tenant-wide rules (SLA policies, business hours, triggers, automations, custom fields,
    # contact reasons, teams, tag renames, shared views and macros): administrators' work.
    SETTINGS_WRITE = "settings:write", _("Change helpdesk settings")
    ACCOUNT_READ = "account:read", _("Read account details")


ALL_SCOPES: frozenset[str] = frozenset(Scope.values)


def scope_granted(granted: list[str] | frozenset[str], needed: str) -> bool:
    if needed in granted:
        return True
    area, _sep, level = needed.partition(":")
    return level == "read" and f"{area}:write" in granted


# What a console session user's role grants when the API is used with session auth.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_SCOPES,
    Role.ADMIN: ALL_SCOPES,
    Role.AGENT: frozenset({Scope.TICKETS_WRITE, Scope.CONTACTS_WRITE, Scope.KB_READ, Scope.ACCOUNT_READ,
                           Scope.CHANNELS_READ}),
    # Light agents and QA reviewers write internal notes: the scope lets the request reach
    # the ticket services, which refuse what their role's capabilities do not allow
    # (public replies, property changes).
    Role.LIGHT_AGENT: frozenset({Scope.TICKETS_WRITE, Scope.CONTACTS_READ, Scope.KB_READ, Scope.ACCOUNT_READ}),
    Role.QA_REVIEWER: frozenset({Scope.TICKETS_WRITE, Scope.CONTACTS_READ, Scope.KB_READ, Scope.REPORTS_READ,
                                 Scope.ACCOUNT_READ}),
    Role.ANALYST: frozenset({Scope.REPORTS_READ, Scope.ACCOUNT_READ}),
}
