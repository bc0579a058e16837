"""SLA: policies matched by conditions, per-metric timers, the sweep (SPEC.md §2).

``engine`` is pure (the rules); ``services`` applies a ticket change to the stored timers
(the ticket hook) and ``register()`` wires it all from ``TicketsConfig.ready()``;
``sweep`` flags warnings and breaches; ``selectors`` reads for APIs and the console.
"""


def register() -> None:
    from tickets.sla import policy_cache
    from tickets.sla.services import register as _register

    _register()
    policy_cache.connect()
