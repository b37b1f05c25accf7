"""Keys that make duplicates findable by equality (so both backends find them with an
index): canonical URLs, a day key, and MinHash bands of the text."""

from __future__ import annotations

import hashlib
import struct
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from app.utils.text import fold, tokens

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "ref", "ref_src", "source", "_hsenc", "_hsmi", "mkt_tok", "trk", "si",
    }
)  # fmt: skip
MIN_TEXT_TOKENS = 20
MAX_SHINGLES = 256  # the opening of a text identifies it; bounds the cost on every edit


def canonical_url(url: str | None) -> str | None:
    """`url` without scheme differences, `www.`, fragments, default ports, trailing slashes
    and tracking parameters (utm_*, fbclid…); remaining parameters sorted."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    port = parts.port if parts.port not in (None, 80, 443) else None
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    path = parts.path.rstrip("/") or ""
    netloc = f"{host}:{port}" if port else host
    return urlunsplit(("", netloc, path, urlencode(query), "")).removeprefix("//")


def day_key(prefix: str, when: datetime | None) -> str | None:
    return f"{prefix}:{when.date().isoformat()}" if when is not None else None


# MinHash: 16 hash functions (the 16 32-bit words of one 64-byte BLAKE2b digest per word
# 3-shingle), banded 8 × 2. Two texts with Jaccard similarity s share a band with
# probability 1 − (1 − s²)⁸: 0.9999 at s = 0.8, 0.5 at s = 0.3, ~0 for unrelated texts —
# then the 16 values estimate s.
HASHES = 16
ROWS_PER_BAND = 2
_WORDS = struct.Struct(f">{HASHES}I")


def signature(text: str) -> list[int] | None:
    """The MinHash signature of `text` (None for short texts)."""
    words = tokens(text[: MAX_SHINGLES * 16])
    if len(words) < MIN_TEXT_TOKENS:
        return None
    rows = [
        _WORDS.unpack(hashlib.blake2b(" ".join(words[i : i + 3]).encode(), digest_size=64).digest())
        for i in range(min(len(words) - 2, MAX_SHINGLES))
    ]
    return [min(column) for column in zip(*rows, strict=True)]


def encode(values: list[int] | None) -> str | None:
    return ".".join(f"{v:x}" for v in values) if values else None


def decode(text: str) -> list[int]:
    return [int(v, 16) for v in text.split(".")]


def bands(values: list[int] | None) -> list[str]:
    if not values:
        return []
    rows = ROWS_PER_BAND
    return [
        f"{i}:"
        + hashlib.blake2b(
            repr(values[i * rows : (i + 1) * rows]).encode(), digest_size=6
        ).hexdigest()
        for i in range(len(values) // rows)
    ]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two texts' shingles."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def folded(text: str | None) -> str:
    return " ".join(fold(text or "").split())
