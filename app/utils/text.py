"""Text helpers: accent/case folding, search tokens, slugs, HTML sanitising."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import nh3

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "it",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)
ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "h2", "h3", "h4",
    "blockquote", "code", "pre",
}  # fmt: skip


def fold(text: str) -> str:
    """Lower-case and strip accents: 'Café Énergie' -> 'cafe energie'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _stem(token: str) -> str:
    """A deliberately tiny stemmer: plural 's' only, so 'grants' finds 'grant'."""
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order, repeats kept (for term frequencies)."""
    return [_stem(w) for w in _WORD.findall(fold(text)) if len(w) >= 2 and w not in STOPWORDS]


def tokens(text: str) -> list[str]:
    """Search tokens of `text`, in order, de-duplicated."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(fold(text)):
        if len(word) < 2 or word in STOPWORDS:
            continue
        seen.setdefault(_stem(word), None)
    return list(seen)


def token_set(parts: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for part in parts:
        if part:
            for token in tokens(part):
                seen.setdefault(token, None)
    return list(seen)


def slugify(text: str, max_length: int = 80) -> str:
    slug = "-".join(_WORD.findall(fold(text)))[:max_length].strip("-")
    return slug or "item"


def sanitize_html(html: str) -> str:
    """Rich text in, safe HTML out: no scripts, event handlers or javascript: URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def strip_html(html: str) -> str:
    return re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip()
