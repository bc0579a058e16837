"""What every new tenant starts with: five shared views and three shared macros.

View and macro names are in the tenant's language (``Tenant.default_locale``); a macro's
reply is stored in every language the catalogue translates it to, so a Turkish tenant's
English-speaking customers still get English replies.
"""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from helpdesk.tenancy.models import Tenant
from tickets.models import Macro, SavedView, Status
from tickets.models.ticket import UNSOLVED_STATUSES
from tickets.productivity.macros import macro_create
from tickets.productivity.placeholders import language_codes
from tickets.productivity.views import saved_view_create

UNSOLVED = list(UNSOLVED_STATUSES)  # the partial index ticket_tenant_unassigned holds these

# (key, name, conditions, columns, sort). Names are msgids, translated at creation.
DEFAULT_VIEWS: list[tuple[str, str, dict, list[str], list[dict]]] = [
    (
        "my_open", gettext_noop("My open tickets"),
        {"all": [{"field": "assignee_id", "operator": "is", "value": "me"},
                 {"field": "status", "operator": "in", "value": UNSOLVED}]},
        ["number", "subject", "requester", "status", "priority", "sla_next_due_at", "updated_at"],
        [{"field": "updated_at", "direction": "desc"}],
    ),
    (
        "unassigned", gettext_noop("Unassigned tickets"),
        {"all": [{"field": "is_assigned", "operator": "is", "value": False},
                 {"field": "status", "operator": "in", "value": UNSOLVED}]},
        ["number", "subject", "requester", "status", "priority", "team", "sla_next_due_at", "updated_at"],
        [{"field": "updated_at", "direction": "desc"}],
    ),
    (
        "breaching_soon", gettext_noop("Breaching soon"),
        # Due within the hour, overdue ones included (they are the most urgent).
        {"all": [{"field": "minutes_to_sla_due", "operator": "lte", "value": 60},
                 {"field": "status", "operator": "in", "value": UNSOLVED}]},
        ["number", "subject", "requester", "priority", "assignee", "team", "sla_next_due_at"],
        [{"field": "sla_next_due_at", "direction": "asc"}],
    ),
    (
        "pending", gettext_noop("Pending tickets"),
        {"all": [{"field": "status", "operator": "is", "value": Status.PENDING}]},
        ["number", "subject", "requester", "assignee", "priority", "updated_at"],
        [{"field": "updated_at", "direction": "desc"}],
    ),
    (
        "recently_solved", gettext_noop("Recently solved"),
        {"all": [{"field": "status", "operator": "is", "value": Status.SOLVED},
                 {"field": "hours_since_solved", "operator": "lte", "value": 7 * 24}]},
        ["number", "subject", "requester", "assignee", "updated_at"],
        [{"field": "updated_at", "direction": "desc"}],
    ),
]

ASK_FOR_DETAILS_REPLY = gettext_noop(
    "Hi {{ requester.first_name }},\n\n"
    "Thank you for getting in touch. So that we can help you further, could you send us a few more "
    "details, such as your order number and what you expected to happen?\n\n"
    "Best regards,\n{{ agent.first_name }}\n{{ tenant.name }}"
)
SOLVED_REPLY = gettext_noop(
    "Hi {{ requester.first_name }},\n\n"
    "We are glad we could help: your request #{{ ticket.number }} is now solved. If anything else "
    "comes up, just reply to this message and we will pick it up again.\n\n"
    "Best regards,\n{{ agent.first_name }}\n{{ tenant.name }}"
)

# (name, description, actions, reply msgid or "")
DEFAULT_MACROS: list[tuple[str, str, list[dict], str]] = [
    (gettext_noop("Ask for details"), gettext_noop("Set to pending and ask the customer for more details."),
     [{"field": "status", "value": Status.PENDING}], ASK_FOR_DETAILS_REPLY),
    (gettext_noop("Solved – thank you"), gettext_noop("Set to solved and thank the customer."),
     [{"field": "status", "value": Status.SOLVED}], SOLVED_REPLY),
    (gettext_noop("Escalate to urgent"), gettext_noop("Raise the priority to urgent and tag it escalated."),
     [{"field": "priority", "value": "urgent"}, {"field": "add_tags", "value": ["escalated"]}], ""),
]


def _in(language: str, msgid: str) -> str:
    with translation.override(language):
        return gettext(msgid)


def _per_language(msgid: str) -> dict[str, str]:
    """The text in every shipped language the catalogue has it in (English always)."""
    texts = {}
    for code in language_codes():
        text = _in(code, msgid)
        if code == "en" or text != msgid:
            texts[code] = text
    return texts


def productivity_defaults_create(tenant: Tenant) -> None:
    """Create the default views and macros of ``tenant`` (run inside its tenant scope).
    Idempotent: views are found by ``key``, macros by name, shared ones only."""
    language = tenant.default_locale or "en"
    existing_keys = set(SavedView.objects.filter(tenant=tenant, owner__isnull=True)
                        .exclude(key="").values_list("key", flat=True))
    for position, (key, name, conditions, columns, sort) in enumerate(DEFAULT_VIEWS):
        if key in existing_keys:
            continue
        saved_view_create(tenant=tenant, actor=None, name=_in(language, name), conditions=conditions,
                          columns=columns, sort=sort, personal=False, position=position, key=key)
    existing_macros = set(Macro.objects.filter(tenant=tenant, owner__isnull=True).values_list("name", flat=True))
    for position, (name, description, actions, reply) in enumerate(DEFAULT_MACROS):
        local_name = _in(language, name)
        if local_name in existing_macros:
            continue
        macro_create(tenant=tenant, actor=None, name=local_name, description=_in(language, description),
                     actions=actions, reply=_per_language(reply) if reply else {}, reply_public=True,
                     personal=False, position=position)
