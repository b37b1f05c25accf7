"""Duplicates across sources and with items entered by hand, found in tiers and suggested
to staff — never merged silently. Each tier is an equality lookup on keys `derive()` keeps
on every item (so the same indexed queries run on MongoDB and the embedded backend):

1. `external_id` — the same external id from another origin (one grant in two feeds);
2. `url` — the same canonical URL (tracking parameters, `www.`, fragments stripped);
3. `fuzzy` — the same deadline/start day, and organisation + title alike (rapidfuzz);
4. `text` — a MinHash band in common and an estimated Jaccard similarity of their
   descriptions' word 3-shingles of at least 0.75 (near-duplicate text).

The first tier that links two items names the suggestion; a pair is suggested once (unique
on the sorted pair), so a dismissed pair is not suggested again.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from rapidfuzz import fuzz

from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.ingestion import DuplicateSuggestion, DuplicateTier, TargetKind
from app.services.catalogue import CatalogueKind
from app.tasks import effects
from app.utils import dedupe_keys

CANDIDATES = 200  # per tier and item
FUZZY_THRESHOLD = 0.85
TEXT_THRESHOLD = 0.75
FIELDS = {
    "title": 1, "organisation_name": 1, "provenance": 1, "dedupe_urls": 1,
    "dedupe_signature": 1, "status": 1,
}  # fmt: skip


def pair_key(target: TargetKind, a: PydanticObjectId, b: PydanticObjectId) -> str:
    low, high = sorted((str(a), str(b)))
    return f"{target}:{low}:{high}"


def _fuzzy(item: CatalogueItem, other: dict[str, Any]) -> float:
    org = fuzz.token_sort_ratio(
        dedupe_keys.folded(item.organisation_name), dedupe_keys.folded(other["organisation_name"])
    )
    title = fuzz.token_sort_ratio(
        dedupe_keys.folded(item.title), dedupe_keys.folded(other["title"])
    )
    return round((0.35 * org + 0.65 * title) / 100, 3)


async def _lookup(
    kind: CatalogueKind[Any], item: CatalogueItem, where: dict[str, Any]
) -> list[dict[str, Any]]:
    query = {**where, "_id": {"$ne": item.id}, "status": {"$ne": ItemStatus.archived.value}}
    cursor = kind.model.get_motor_collection().find(query, FIELDS).limit(CANDIDATES)
    return [doc async for doc in cursor]


async def candidates(
    kind: CatalogueKind[Any], item: CatalogueItem
) -> dict[PydanticObjectId, tuple[DuplicateTier, float, str]]:
    """Other items that look like `item`: id -> (tier, score 0–1, reason)."""
    found: dict[PydanticObjectId, tuple[DuplicateTier, float, str]] = {}

    def add(doc: dict[str, Any], tier: DuplicateTier, score: float, reason: str) -> None:
        found.setdefault(PydanticObjectId(doc["_id"]), (tier, score, reason))

    if item.provenance is not None:
        where = {"provenance.external_id": item.provenance.external_id}
        for doc in await _lookup(kind, item, where):
            origin = (doc.get("provenance") or {}).get("origin")
            if origin != item.provenance.origin:
                add(doc, "external_id", 1.0, f"same external id {item.provenance.external_id!r}")
    if item.dedupe_urls:
        for doc in await _lookup(kind, item, {"dedupe_urls": {"$in": item.dedupe_urls}}):
            shared = sorted(set(doc.get("dedupe_urls") or []) & set(item.dedupe_urls))
            add(doc, "url", 0.95, f"same link {shared[0] if shared else ''}")
    if item.dedupe_date_key:
        for doc in await _lookup(kind, item, {"dedupe_date_key": item.dedupe_date_key}):
            score = _fuzzy(item, doc)
            if score >= FUZZY_THRESHOLD:
                add(doc, "fuzzy", score, "same day, similar organisation and title")
    if item.dedupe_bands and item.dedupe_signature:
        mine = dedupe_keys.decode(item.dedupe_signature)
        for doc in await _lookup(kind, item, {"dedupe_bands": {"$in": item.dedupe_bands}}):
            theirs = doc.get("dedupe_signature")
            if not theirs:
                continue
            score = dedupe_keys.similarity(mine, dedupe_keys.decode(theirs))
            if score >= TEXT_THRESHOLD:
                add(doc, "text", round(score, 3), f"near-identical text ({score:.0%} alike)")
    return found


async def suggest(kind: CatalogueKind[Any], target: TargetKind, item: CatalogueItem) -> int:
    """Record a suggestion for each item that looks like `item`; how many are new."""
    assert item.id is not None  # noqa: S101
    new = 0
    for other, (tier, score, reason) in (await candidates(kind, item)).items():
        suggestion = DuplicateSuggestion(
            target=target,
            pair=pair_key(target, item.id, other),
            item_ids=sorted([item.id, other], key=str),
            tier=tier,
            score=score,
            reason=reason,
        )
        if await effects.insert_once(suggestion):
            new += 1
    return new
