"""Keeping the search index current. Called by the content services in the same transaction
as the change, so what is published is findable at once (and what is archived is gone).

The search document of a published translation (PostgreSQL only; embedded mode searches the
text columns directly) is a row of ``knowledge_searchdocument`` (``SearchDocument``, see its
module for why that table has no row-level security):

- ``tsv``: title (weight A), labels (C) and body (B), each twice: stemmed with the language's
  Snowball configuration, and as accent-folded surface words (``kb_surface_*``) that query
  roots are prefix-matched against (``knowledge.search.text``). The text is case-folded the
  language's way first (Turkish ``I`` → ``ı``, ``İ`` → ``i``).
- ``title_tsv``: the same for the title alone (the title candidates of a search, autocomplete).
- ``title_folded``: the folded, unaccented title, for trigram typo matching as people type.
- ``visibility``: the article's, a pre-filter of candidates (the article decides).

Rows are upserted from the translations (read through row-level security: only the tenant in
context can be indexed) and deleted for translations that are no longer published. The words
of published documents also go into the tenant's vocabulary (``SearchTerm``).
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from knowledge.search.text import STEM_CONFIGS, TURKIC

MAX_BODY_CHARS = 100_000
_LANGUAGE = "lower(split_part(t.locale, '-', 1))"


def _config_name_sql() -> str:
    whens = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in sorted(STEM_CONFIGS.items()))
    return f"(CASE {_LANGUAGE} {whens} ELSE 'simple' END)"


def fold_sql(expression: str) -> str:
    """SQL lower-casing ``expression`` the way of the row's language (``t.locale``)."""
    turkic = ", ".join(f"'{code}'" for code in sorted(TURKIC))
    return (f"(CASE WHEN {_LANGUAGE} IN ({turkic}) THEN lower(translate({expression}, 'Iİ', 'ıi')) "
            f"ELSE lower(replace({expression}, 'İ', 'i')) END)")


STEM_CONFIG_SQL = f"{_config_name_sql()}::regconfig"
SURFACE_CONFIG_SQL = f"('kb_surface_' || {_config_name_sql()})::regconfig"

_LABELS = ("coalesce((SELECT string_agg(l.name, ' ') FROM knowledge_articlelabel al "
           "JOIN knowledge_label l ON l.id = al.label_id "
           "WHERE al.tenant_id = t.tenant_id AND al.article_id = t.article_id), '')")

UPSERT_SQL = f"""
WITH src AS (
    SELECT t.id, t.tenant_id, t.article_id, t.locale, a.visibility,
           {STEM_CONFIG_SQL} AS cfg, {SURFACE_CONFIG_SQL} AS scfg,
           {fold_sql('t.title')} AS title,
           {fold_sql(_LABELS)} AS labels,
           {fold_sql(f'left(t.body_text, {MAX_BODY_CHARS})')} AS body
    FROM knowledge_articletranslation t JOIN knowledge_article a ON a.id = t.article_id
    WHERE {{where}} AND t.status = 'published'
)
INSERT INTO knowledge_searchdocument
    (translation_id, tenant_id, article_id, locale, visibility, tsv, title_tsv, title_folded)
SELECT s.id, s.tenant_id, s.article_id, s.locale, s.visibility,
       setweight(to_tsvector(s.cfg, s.title) || to_tsvector(s.scfg, s.title), 'A')
    || setweight(to_tsvector(s.cfg, s.labels) || to_tsvector(s.scfg, s.labels), 'C')
    || setweight(to_tsvector(s.cfg, s.body) || to_tsvector(s.scfg, s.body), 'B'),
       to_tsvector(s.cfg, s.title) || to_tsvector(s.scfg, s.title),
       unaccent(s.title)
FROM src s
ORDER BY s.id
ON CONFLICT (translation_id) DO UPDATE SET
    tenant_id = EXCLUDED.tenant_id, article_id = EXCLUDED.article_id, locale = EXCLUDED.locale,
    visibility = EXCLUDED.visibility, tsv = EXCLUDED.tsv, title_tsv = EXCLUDED.title_tsv,
    title_folded = EXCLUDED.title_folded
"""

# Documents of translations (among those asked about) that are not published any more.
DELETE_SQL = """
DELETE FROM knowledge_searchdocument d
WHERE d.translation_id = ANY(%s) AND NOT EXISTS (
    SELECT 1 FROM knowledge_articletranslation t WHERE t.id = d.translation_id AND t.status = 'published')
"""

VOCABULARY_SQL = """
INSERT INTO knowledge_searchterm (tenant_id, locale, word)
SELECT DISTINCT d.tenant_id, d.locale, v.lexeme
FROM knowledge_searchdocument d CROSS JOIN LATERAL unnest(d.tsv) AS v
WHERE {where} AND char_length(v.lexeme) BETWEEN 3 AND 40 AND v.lexeme !~ '[0-9]'
ORDER BY 1, 2, 3
ON CONFLICT (tenant_id, locale, word) DO NOTHING
"""


def translations_reindex(translation_ids: Iterable[int]) -> None:
    """(Re)compute the search documents of these article translations (any status: what is
    not published leaves the index). Three statements, whatever the number of rows."""
    if connection.vendor != "postgresql":
        return
    ids = sorted({int(pk) for pk in translation_ids})
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(UPSERT_SQL.format(where="t.id = ANY(%s)"), [ids])
        cursor.execute(DELETE_SQL, [ids])
        cursor.execute(VOCABULARY_SQL.format(where="d.translation_id = ANY(%s)"), [ids])


def tenant_reindex(*, tenant_id: int | None = None) -> int:
    """Rebuild the search documents of a tenant's published translations (or of every
    tenant's, when ``tenant_id`` is None: the caller must be unscoped). For a changed
    configuration or a restored database; returns the documents written."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        if tenant_id is None:
            cursor.execute("DELETE FROM knowledge_searchdocument d WHERE NOT EXISTS (SELECT 1 FROM "
                           "knowledge_articletranslation t WHERE t.id = d.translation_id AND t.status = 'published')")
            cursor.execute(UPSERT_SQL.format(where="TRUE"))
            count = cursor.rowcount
            cursor.execute(VOCABULARY_SQL.format(where="TRUE"))
            return count
        cursor.execute("DELETE FROM knowledge_searchdocument d WHERE d.tenant_id = %s AND NOT EXISTS (SELECT 1 "
                       "FROM knowledge_articletranslation t WHERE t.id = d.translation_id AND t.status = 'published')",
                       [tenant_id])
        cursor.execute(UPSERT_SQL.format(where="t.tenant_id = %s"), [tenant_id])
        count = cursor.rowcount
        cursor.execute(VOCABULARY_SQL.format(where="d.tenant_id = %s"), [tenant_id])
    return count
