"""Which languages a tenant's help center speaks, and which one a visitor gets.

A tenant's help center offers its default language plus any it enables (``HelpCenterSettings.locales``);
content is written per locale, and a page in a language an item has no translation for falls
back to the tenant's default language (``fallback_chain``). Interface strings exist in the
languages of ``settings.LANGUAGES``; content may be in any locale a tenant enables.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from knowledge.models import HelpCenterSettings

LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MAX_LOCALES = 30

T = TypeVar("T")


def normalize_locale(value: str) -> str:
    """``"pt_BR"``/``"PT-br"`` → ``"pt-br"``; raises ``ValidationError`` for anything else."""
    candidate = (value or "").strip().replace("_", "-").lower()
    if not LOCALE_RE.match(candidate):
        raise ValidationError(_("“%(value)s” is not a language code such as en, tr or pt-br."),
                              code="invalid_locale", params={"value": (value or "")[:20]})
    return candidate


def hc_settings(tenant: Tenant) -> HelpCenterSettings:
    """The tenant's help-center settings (created with defaults on first use)."""
    found = HelpCenterSettings.objects.filter(tenant=tenant).first()
    if found is None:
        found, _created = HelpCenterSettings.objects.get_or_create(tenant=tenant)
    return found


def enabled_locales(tenant: Tenant, settings_row: HelpCenterSettings | None = None) -> list[str]:
    """The tenant's default language first, then the others it enabled, without repeats."""
    row = settings_row if settings_row is not None else hc_settings(tenant)
    default = tenant.default_locale or "en"
    found = [default]
    for locale in row.locales or []:
        if isinstance(locale, str) and locale not in found:
            found.append(locale)
    return found


def fallback_chain(tenant: Tenant, locale: str) -> list[str]:
    """Where to look for a translation: the asked locale, its base language, the default."""
    chain = [locale]
    base = locale.split("-")[0]
    if base not in chain:
        chain.append(base)
    if tenant.default_locale and tenant.default_locale not in chain:
        chain.append(tenant.default_locale)
    return chain


def pick_translation(translations: Iterable[T], chain: list[str]) -> T | None:
    """The first translation along ``chain`` among ``translations`` (objects with ``locale``)."""
    by_locale = {t.locale: t for t in translations}
    for locale in chain:
        if locale in by_locale:
            return by_locale[locale]
    return None


def negotiate_locale(*, offered: list[str], requested: str | None = None, accept_language: str = "") -> str:
    """The visitor's language among ``offered``: an explicit choice (URL, switcher), else the
    browser's ``Accept-Language`` in its order of preference, else the first offered one."""
    if requested:
        try:
            wanted = normalize_locale(requested)
        except ValidationError:
            wanted = ""
        if wanted in offered:
            return wanted
        if wanted and wanted.split("-")[0] in offered:
            return wanted.split("-")[0]
    weighted = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        piece = part.strip()
        if not piece:
            continue
        tag, _sep, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, index, tag.strip().lower()))
    for _q, _i, tag in sorted(weighted):
        if tag in offered:
            return tag
        if tag.split("-")[0] in offered:
            return tag.split("-")[0]
    return offered[0] if offered else "en"
