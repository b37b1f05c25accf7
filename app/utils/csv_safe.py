"""CSV cells that spreadsheets will not run as formulas (CSV injection)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A cell starting like a formula gets a leading apostrophe: shown, never evaluated."""
    return "'" + value if value[:1] in FORMULA_STARTS else value
