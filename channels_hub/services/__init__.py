"""Writes of the channels app: channels, inbound mail, the outbox (see each module)."""
