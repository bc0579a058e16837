"""Every write to tickets, one module per concern (import from ``tickets.services``).

All functions are keyword-only, run in one transaction in the ticket's tenant scope, and
record what they did (system entries, events, audit); ticket changes run the ticket hooks
(routing, SLA) inside that transaction.
"""
from tickets.services.attachments import attachments_store, check_upload, check_uploads  # noqa: F401
from tickets.services.common import (  # noqa: F401
    ASSIGNABLE_ROLES,
    StaleTicket,
    TicketClosed,
)
from tickets.services.merge import ticket_link, ticket_merge, ticket_split, ticket_unlink  # noqa: F401
from tickets.services.messages import message_add  # noqa: F401
from tickets.services.participants import (  # noqa: F401
    ticket_cc_add,
    ticket_cc_remove,
    ticket_follow,
    ticket_unfollow,
)
from tickets.services.side_conversations import (  # noqa: F401
    side_conversation_close,
    side_conversation_create,
    side_conversation_reply,
)
from tickets.services.taxonomy import (  # noqa: F401
    clean_custom_fields,
    contact_reason_create,
    contact_reason_delete,
    contact_reason_update,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    normalize_tag,
    normalize_tags,
    tag_create,
    tag_delete,
    tag_rename,
)
from tickets.services.teams import team_create, team_delete, team_update  # noqa: F401
from tickets.services.tickets import (  # noqa: F401
    apply_changes,
    contact_for_email,
    lock_ticket,
    solved_to_closed_days,
    ticket_close,
    ticket_create,
    ticket_settings_get,
    ticket_settings_update,
    ticket_update,
    tickets_close_solved,
)
from tickets.services.work import (  # noqa: F401
    agent_availability_set,
    agent_profile_get,
    time_entry_add,
    time_entry_delete,
)
