"""Pure helpers: text folding and tokens, geo boxes, cursors, file sniffing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from bson import ObjectId

from app.core.exceptions import ValidationFailed
from app.core.pagination import SortSpec, decode_cursor, encode_cursor, keyset_filter
from app.utils.geo import bounding_box_filter, haversine_km
from app.utils.media_files import safe_filename, sniff
from app.utils.text import fold, sanitize_html, slugify, tokens


def test_fold_and_tokens() -> None:
    assert fold("Crèche & Café ÉNERGIE") == "creche & cafe energie"
    assert tokens("The Grants for Cafés, and the café!") == ["grant", "cafe"]
    assert tokens("business class") == ["business", "class"]  # 'ss' is not a plural
    assert slugify("  São Paulo — Demo Day! ") == "sao-paulo-demo-day"


def test_sanitize_html_allowlist() -> None:
    dirty = '<h2>T</h2><a href="javascript:x" onclick="y">l</a><a href="https://ok.example">ok</a><iframe src=x></iframe>'
    clean = sanitize_html(dirty)
    assert "<h2>T</h2>" in clean
    assert "javascript" not in clean
    assert "onclick" not in clean
    assert "iframe" not in clean
    assert 'href="https://ok.example"' in clean


def test_haversine_known_distance() -> None:
    # Nairobi to Mombasa is about 440 km as the crow flies.
    assert haversine_km(-1.2864, 36.8172, -4.0435, 39.6682) == pytest.approx(440, abs=5)


def test_bounding_box_contains_the_circle_and_wraps_the_antimeridian() -> None:
    box = bounding_box_filter("lat", "lng", -17.7, 179.95, 30)
    assert "$or" in box  # split across the antimeridian
    polar = bounding_box_filter("lat", "lng", 89.9, 0, 50)
    assert set(polar) == {"lat"}  # near a pole every longitude qualifies
    box = bounding_box_filter("lat", "lng", 0, 0, 111.2)
    assert box["lat"]["$gte"] == pytest.approx(-1, abs=0.01)
    assert box["lng"]["$lte"] == pytest.approx(1, abs=0.01)


def test_cursor_round_trip_and_strictness() -> None:
    sort = SortSpec("newest", "published_at", -1)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    oid = ObjectId()
    cursor = encode_cursor(sort, when, oid)
    assert decode_cursor(sort, cursor) == (when, oid)
    with pytest.raises(ValidationFailed):
        decode_cursor(SortSpec("deadline", "deadline_sort", 1), cursor)  # another sort's cursor
    for bad in ("", "%%%", "e30", "x" * 600):
        with pytest.raises(ValidationFailed):
            decode_cursor(sort, bad)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7", "application/pdf"),
        (b"MZ\x90\x00", None),
        (b"<svg xmlns=", None),
    ],
)
def test_sniff(head: bytes, expected: str | None) -> None:
    assert sniff(head) == expected


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\cv.pdf") == "cv.pdf"
    assert safe_filename("evil\x00name\r\n.png") == "evilname.png"
    assert safe_filename("...") is None
    assert len(safe_filename("a" * 500 + ".png") or "") == 120


def test_keyset_filter_pages_through_nulls() -> None:
    """MongoDB sorts nulls lowest and `$lt`/`$gt` never match null, so a nullable sort field
    needs explicit null clauses (mongomock happens to be more lenient here)."""
    oid = ObjectId()
    desc = SortSpec("newest", "published_at", -1)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert {"published_at": None} in keyset_filter(desc, when, oid)["$or"]
    assert keyset_filter(desc, None, oid) == {"published_at": None, "_id": {"$lt": oid}}
    asc = SortSpec("oldest", "published_at", 1)
    assert {"published_at": {"$ne": None}} in keyset_filter(asc, None, oid)["$or"]
    assert {"published_at": None} not in keyset_filter(asc, when, oid)["$or"]
