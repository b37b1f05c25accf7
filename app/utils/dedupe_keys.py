"""Keys that make duplicates findable by equality (so both backends find them with an
index): canonical URLs, a day key, and a 64-bit simhash of the text split into bands."""

from __future__ import annotations

import hashlib
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
BANDS = 4
MIN_TEXT_TOKENS = 20


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


def simhash(text: str) -> int | None:
    """A 64-bit simhash of the text's word 3-shingles (None for short texts): texts that
    differ by a few words differ in a few bits."""
    words = tokens(text)
    if len(words) < MIN_TEXT_TOKENS:
        return None
    weights = [0] * 64
    for i in range(len(words) - 2):
        shingle = " ".join(words[i : i + 3]).encode()
        h = int.from_bytes(hashlib.blake2b(shingle, digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def bands(value: int | None) -> list[str]:
    """Four 16-bit bands: two simhashes within 3 bits of each other share at least one."""
    if value is None:
        return []
    return [f"{i}:{value >> (16 * i) & 0xFFFF:04x}" for i in range(BANDS)]


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def folded(text: str | None) -> str:
    return " ".join(fold(text or "").split())
