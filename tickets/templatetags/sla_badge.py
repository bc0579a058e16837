"""``{% sla_badge ticket as badge %}``: the console's SLA badge data for one ticket.

Reads the prefetched ``ticket.sla_timers`` (``tickets.sla.selectors.sla_badge``): no
query per row when the list prefetched them.
"""
from __future__ import annotations

from django import template
from django.utils.translation import gettext as _, pgettext

from tickets.sla.selectors import sla_badge as _sla_badge

register = template.Library()


def duration_text(seconds: int) -> str:
    """A short, translated duration: "2 d 3 h", "1 h 20 min", "5 min" (sla.js says the same)."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    d, h, m = pgettext("days, short", "d"), pgettext("hours, short", "h"), pgettext("minutes, short", "min")
    if days:
        return f"{days} {d} {hours} {h}"
    if hours:
        return f"{hours} {h} {minutes} {m}"
    return f"{minutes} {m}"


@register.simple_tag
def sla_badge(ticket):
    badge = _sla_badge(ticket)
    if badge is None:
        return None
    seconds = badge["seconds_left"]
    if seconds is not None:
        text = duration_text(seconds)
        badge["text"] = (_("%(time)s overdue") if seconds < 0 else _("%(time)s left")) % {"time": text}
    else:
        badge["text"] = _("Paused")
    return badge
