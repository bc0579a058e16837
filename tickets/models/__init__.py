"""Tickets: the case, its conversation, SLA timers, productivity and automation tables.

Split by concern; import from ``tickets.models``.
"""
from tickets.models.ticket import (  # noqa: F401
    Attachment,
    Channel,
    ContactReason,
    CustomField,
    CustomFieldKind,
    LinkKind,
    Message,
    MessageKind,
    Priority,
    SideConversation,
    SideConversationKind,
    Status,
    Tag,
    Ticket,
    TicketCC,
    TicketCounter,
    TicketFollower,
    TicketLink,
    TicketSettings,
    TicketTag,
    TicketType,
    TimeEntry,
    Via,
)
from tickets.models.sla import Metric, SlaPolicy, SlaTarget, SlaTimer, TimerStatus  # noqa: F401
from tickets.models.productivity import Macro, SavedView  # noqa: F401
from tickets.models.automation import (  # noqa: F401
    Automation,
    AutomationRun,
    Notification,
    NotificationKind,
    NotificationPreference,
    Trigger,
    TriggerRun,
)
from tickets.models.routing import AgentProfile, AgentStatus, RoutingMode, TeamRouting  # noqa: F401
