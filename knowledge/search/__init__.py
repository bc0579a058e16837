"""Help-center search: PostgreSQL full-text search per language, typo tolerance, synonyms,
ranking, snippets and autocomplete; a simpler search in embedded mode (SQLite)."""
