"""Search data: a tenant's synonyms, the search document of each published translation, and
the vocabulary of the published articles.

``SearchDocument`` and ``SearchTerm`` are derived data (rebuilt from the articles at any time,
``knowledge.search.indexing``) and are the two tenant tables **without row-level security**, on
purpose: PostgreSQL never evaluates an operator that is not leakproof — ``@@`` of full-text
search, ``%`` and ``<%`` of pg_trgm — before a row-security policy, so on a table with RLS their
GIN indexes cannot be used and every search would read every document (measured: a common word
over 40,000 translations took half a second instead of a few milliseconds). What keeps tenants
apart instead: every statement on these tables names ``tenant_id`` (``knowledge.search.postgres``,
tested), and a search only *selects ids* here; the titles, texts and visibility of what it
returns are read from ``knowledge_articletranslation`` and ``knowledge_article``, which do have
RLS, so a missed filter could change which ids are considered, never show another tenant's
content. The document's ``tsvector`` columns exist on PostgreSQL only (added by the
``search_documents`` migration with SQL; the ORM never reads them).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy.models import TenantOwned, tenant_key


class SearchSynonym(TenantOwned):
    """Words a tenant's customers use for the same thing ("refund", "money back",
    "reimbursement"): a search for any of them finds articles that use another. One row is
    one set of equivalent terms in one language; a term may be several words."""

    tenant = tenant_key(db_index=False)
    locale = models.CharField(_("language"), max_length=10)
    terms = models.JSONField(_("equivalent terms"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("search synonym")
        verbose_name_plural = _("search synonyms")
        ordering = ["locale", "id"]
        indexes = [models.Index(fields=["tenant", "locale"], name="kb_synonym_tenant_locale")]

    def __str__(self) -> str:
        return ", ".join(str(term) for term in (self.terms or [])[:5])


class SearchDocument(models.Model):
    """The search document of one published translation (none for drafts, reviews, archived
    ones). Beside these columns PostgreSQL holds ``tsv`` (title A, labels C, body B; stemmed
    and accent-folded surface words), ``title_tsv`` and ``title_folded`` (trigram typos).
    ``visibility`` repeats the article's as a cheap pre-filter of candidates; who may see an
    article is still decided by ``visible_articles_q`` on the article itself."""

    translation = models.OneToOneField("knowledge.ArticleTranslation", primary_key=True, on_delete=models.CASCADE,
                                       related_name="+")
    tenant = tenant_key(db_index=False)
    article = models.ForeignKey("knowledge.Article", on_delete=models.CASCADE, related_name="+")
    locale = models.CharField(max_length=10)
    visibility = models.CharField(max_length=16)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self) -> str:
        return f"search document {self.pk}"


class SearchTerm(models.Model):
    """One word (or stem) that occurs in the tenant's published articles of a language: the
    vocabulary a misspelt query word is matched against ("refnud" → "refund"). Filled by the
    indexer (PostgreSQL only); a word whose articles are gone stays and only costs a
    correction that finds nothing. No RLS: see the module's docstring."""

    tenant = tenant_key(db_index=False)
    locale = models.CharField(max_length=10)
    word = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("search vocabulary word")
        verbose_name_plural = _("search vocabulary")
        constraints = [models.UniqueConstraint(fields=["tenant", "locale", "word"], name="kb_search_term_unique")]

    def __str__(self) -> str:
        return self.word
