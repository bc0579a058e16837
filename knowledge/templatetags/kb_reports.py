"""Formatting of report figures: shares as percentages in the reader's language ("42%",
Turkish "%42"), missing figures as a dash rather than a misleading 0."""
from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

DASH = "—"


@register.filter
def kb_percent(value, decimals: int = 0) -> str:
    """A share (0.0–1.0) as a percentage; None → "—"."""
    if value is None or value == "":
        return DASH
    try:
        number = float(value) * 100
    except (TypeError, ValueError):
        return DASH
    # Translators: a percentage; Turkish puts the sign first ("%42").
    return _("%(value)s%%") % {"value": number_format(round(number, int(decimals)), decimal_pos=int(decimals))}


@register.filter
def kb_number(value, decimals: int = 0) -> str:
    """A count or an average in the reader's number format; None → "—"."""
    if value is None or value == "":
        return DASH
    try:
        return number_format(round(float(value), int(decimals)), decimal_pos=int(decimals), force_grouping=True)
    except (TypeError, ValueError):
        return DASH
