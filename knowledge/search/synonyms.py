"""Writing a tenant's search synonyms (sets of equivalent terms per language). Read by
``kb_search`` on every search (one small indexed query), so a change applies at once."""
from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.tenancy.models import Tenant
from knowledge.locales import normalize_locale
from knowledge.models import SearchSynonym
from knowledge.search.text import term_key

MAX_TERMS = 20
MAX_TERM_CHARS = 60
MAX_SETS = 500


def _clean(terms: Sequence[str], locale: str) -> list[str]:
    if not isinstance(terms, (list, tuple)):
        raise ValidationError({"terms": [_("Give the equivalent terms as a list.")]})
    cleaned: list[str] = []
    keys: set[tuple[str, ...]] = set()
    for term in terms:
        text = " ".join(str(term or "").split())
        if not text:
            continue
        if len(text) > MAX_TERM_CHARS:
            raise ValidationError({"terms": [_("A term can be at most 60 characters.")]})
        key = term_key(text, locale)
        if not key:
            raise ValidationError({"terms": [_("“%(term)s” has no letters or digits.") % {"term": text[:20]}]})
        if key not in keys:
            keys.add(key)
            cleaned.append(text)
    if len(cleaned) < 2:
        raise ValidationError({"terms": [_("Give at least two different terms.")]})
    if len(cleaned) > MAX_TERMS:
        raise ValidationError({"terms": [_("A set can have at most 20 terms.")]})
    return cleaned


@transaction.atomic
def synonym_create(*, tenant: Tenant, locale: str, terms: Sequence[str]) -> SearchSynonym:
    locale = normalize_locale(locale)
    if SearchSynonym.objects.filter(tenant=tenant).count() >= MAX_SETS:
        raise ValidationError(_("This help center has the most synonym sets it can have."))
    return SearchSynonym.objects.create(tenant=tenant, locale=locale, terms=_clean(terms, locale))


@transaction.atomic
def synonym_update(*, synonym: SearchSynonym, locale: str | None = None,
                   terms: Sequence[str] | None = None) -> SearchSynonym:
    if locale is not None:
        synonym.locale = normalize_locale(locale)
    synonym.terms = _clean(terms if terms is not None else synonym.terms, synonym.locale)
    synonym.save()
    return synonym


@transaction.atomic
def synonym_delete(*, synonym: SearchSynonym) -> None:
    synonym.delete()
