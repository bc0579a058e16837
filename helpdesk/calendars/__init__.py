"""Business hours, holidays and time-zone arithmetic (pure functions in ``business_time``)."""
