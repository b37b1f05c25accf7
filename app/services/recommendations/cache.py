"""Each user's ranking per kind, cached in MongoDB (`recommendation_caches`).

A cached ranking is used while its `basis` — the profile's matching facts, the user's own
feedback (positives, dismissals and their reasons) and the ranking's version — is the
current one, its `generation` is the catalogue's, and it is younger than
RECOMMENDATION_CACHE_SECONDS. Otherwise it is recomputed: by the worker when a profile or
an item changes, or on demand by the request that finds it stale. Writing is an upsert on
the unique (user, kind) key, so two computations at once leave one valid row.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.models.recommendation import RecommendationCache
from app.services.recommendations.behaviour import Feedback
from app.services.recommendations.facts import Kind, ProfileFacts
from app.services.recommendations.ranking import Scored

RANKING_VERSION = "2"  # bump when the ranking changes: every cached ranking becomes stale
READ_MARK_EVERY = timedelta(hours=1)  # how often a read refreshes `last_read_at`
PACKED = np.dtype([("id", "u1", (12,)), ("score", "<i4"), ("eligible", "?")])


def pack(entries: list[Scored]) -> bytes:
    """The ranking as one binary value (a list of sub-documents costs far more to write and
    read, on MongoDB and much more on the embedded backend)."""
    rows = np.zeros(len(entries), dtype=PACKED)
    if entries:
        ids = b"".join(e.item_id.binary for e in entries)
        rows["id"] = np.frombuffer(ids, np.uint8).reshape(-1, 12)
        rows["score"] = [e.score for e in entries]
        rows["eligible"] = [e.eligible for e in entries]
    return rows.tobytes()


def unpack(raw: bytes) -> list[Scored]:
    rows = np.frombuffer(raw, dtype=PACKED)
    size = PACKED.itemsize
    ids = [PydanticObjectId(raw[n * size : n * size + 12]) for n in range(len(rows))]
    scores, eligible = rows["score"].tolist(), rows["eligible"].tolist()
    return [Scored(*row) for row in zip(ids, scores, eligible, strict=True)]


def basis(profile: ProfileFacts, feedback: Feedback, provider: str) -> str:
    raw = "|".join([RANKING_VERSION, provider, profile.fingerprint(), feedback.fingerprint()])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


async def load(user_id: PydanticObjectId, kind: Kind) -> RecommendationCache | None:
    raw = await RecommendationCache.get_motor_collection().find_one(
        {"user_id": user_id, "kind": kind}
    )
    return RecommendationCache.model_validate(raw) if raw else None


def valid(
    cache: RecommendationCache | None, basis: str, generation: int, now: datetime, max_age: int
) -> bool:
    return (
        cache is not None
        and cache.basis == basis
        and cache.generation >= generation
        and now - cache.computed_at < timedelta(seconds=max_age)
    )


async def store(
    user_id: PydanticObjectId,
    kind: Kind,
    basis: str,
    generation: int,
    entries: list[Scored],
    now: datetime,
) -> None:
    values: dict[str, Any] = {
        "basis": basis,
        "generation": generation,
        "computed_at": now,
        "last_read_at": now,
        "ranking": pack(entries),
    }
    collection = RecommendationCache.get_motor_collection()
    key = {"user_id": user_id, "kind": kind}
    try:
        await collection.update_one(key, {"$set": values}, upsert=True)
    except DuplicateKeyError:  # two first computations at once: the row is there now
        await collection.update_one(key, {"$set": values})


async def mark_read(cache: RecommendationCache, now: datetime) -> None:
    """Keep the user among the active ones the worker refreshes (at most one write an hour)."""
    if now - cache.last_read_at >= READ_MARK_EVERY:
        await RecommendationCache.get_motor_collection().update_one(
            {"user_id": cache.user_id, "kind": cache.kind}, {"$set": {"last_read_at": now}}
        )


async def active_users(
    kind: Kind, generation: int, since: datetime, limit: int
) -> list[PydanticObjectId]:
    """Users who read recommendations since `since` and whose ranking is older than
    `generation`, most recent readers first."""
    cursor = (
        RecommendationCache.get_motor_collection()
        .find(
            {"kind": kind, "last_read_at": {"$gte": since}, "generation": {"$lt": generation}},
            {"user_id": 1},
        )
        .sort("last_read_at", -1)
        .limit(limit)
    )
    return [PydanticObjectId(row["user_id"]) async for row in cursor]
