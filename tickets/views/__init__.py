"""Console pages for tickets: the list with saved views, the ticket page and its actions.

Call ``register_nav()`` from ``TicketsConfig.ready()`` to put "Tickets" in the side navigation.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_nav() -> None:
    from helpdesk.console import nav
    from helpdesk.tenancy.roles import Cap

    nav.register(key="tickets", label=_("Tickets"), url_name="tickets:list", capability=Cap.TICKETS_VIEW,
                 icon="inbox", order=10)
