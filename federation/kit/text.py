"""Text folding for search: case- and accent-insensitive on SQLite and PostgreSQL alike."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """'Développeur Web' -> 'developpeur web'; stored beside searchable text, applied to queries."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().replace("œ", "oe").replace("æ", "ae").split())


def like_contains(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, with the user's % and _ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
