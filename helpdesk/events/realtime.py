"""Channel-layer group names: the contract between event dispatch and websocket consumers.

Groups stay small (per tenant's agents, per ticket, per chat session); channels-redis
delivers at most once, so anything pushed here is already stored and clients resume
from their last seen id.
"""
from __future__ import annotations


def agents_group(tenant_id: int) -> str:
    """Every console tab of a tenant's agents."""
    return f"tenant-{tenant_id}-agents"


def user_group(tenant_id: int, user_id: int) -> str:
    """Every console tab of one agent in one tenant (personal notifications)."""
    return f"tenant-{tenant_id}-user-{user_id}"


def ticket_group(tenant_id: int, ticket_id: int) -> str:
    """Every open page of one ticket (presence, typing, the ticket's live changes)."""
    return f"tenant-{tenant_id}-ticket-{ticket_id}"
