"""Console pages of channels (``/console/channels/``): the settings of email mailboxes and
connector channels, and each mailbox's mail log, for administrators (``settings.manage``);
and the ticket page's delivery panels (``ticket_panels``), for whoever sees the ticket.

Call ``register_nav()`` from ``ChannelsHubConfig.ready()`` to put "Channels" in the side
navigation (kept import-light: the views themselves load with the URLconf).
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register_nav() -> None:
    from helpdesk.console import nav
    from helpdesk.tenancy.roles import Cap

    nav.register(key="channels", label=_("Channels"), url_name="channels:list", capability=Cap.SETTINGS_MANAGE,
                 icon="inbox", order=840)
