"""Reading a report's parameters (``from``, ``to``, ``locale``, ``source``) from a query
string, the same way for console pages and the API. Bad values raise ``ReportParamError``
with the field and a message for people; callers answer 400 and change nothing."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from knowledge.locales import normalize_locale
from knowledge.models import SearchSource
from knowledge.reports.period import PeriodError, period_parse
from knowledge.reports.selectors import ReportFilter


class ReportParamError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _text(data, name: str) -> str:
    value = data.get(name) or ""
    return value.strip()[:40] if isinstance(value, str) else ""


def report_filter(*, tenant: Tenant, data) -> ReportFilter:
    """``data``: a ``QueryDict`` (or dict). Missing dates mean the last 30 days."""
    try:
        period = period_parse(tenant=tenant, start=_text(data, "from") or None, end=_text(data, "to") or None)
    except PeriodError as exc:
        raise ReportParamError("period", str(exc)) from None
    locale = _text(data, "locale") or None
    if locale:
        try:
            locale = normalize_locale(locale)
        except ValidationError as exc:
            raise ReportParamError("locale", exc.messages[0]) from None
    source = _text(data, "source") or None
    if source and source not in SearchSource.values:
        raise ReportParamError("source", _("Source must be one of: %(choices)s.")
                               % {"choices": ", ".join(SearchSource.values)})
    return ReportFilter(period=period, locale=locale, source=source)


def query_string(flt: ReportFilter) -> str:
    """The filter as a query string, for links between report pages and to exports."""
    from django.utils.http import urlencode

    params = {"from": flt.period.start.isoformat(), "to": flt.period.end.isoformat()}
    if flt.locale:
        params["locale"] = flt.locale
    if flt.source:
        params["source"] = flt.source
    return urlencode(params)
