"""What founders do, as recommendation signals.

- Everyone's positive interactions (saves and applications of opportunities, RSVPs to
  events) as one sparse users × items matrix, reloaded every RECOMMENDATION_SIGNALS_SECONDS:
  popularity, and "founders who saved X also saved Y" (item-to-item cosine over the users
  who interacted with both). A pair counts only when at least CO_MIN_FOUNDERS founders
  (besides the one asking) interacted with both: saves and applications are private, and
  "more like this" is public — with one founder behind a pair, it would tell anyone who
  knows what that founder saved what else they saved or applied to.
- One user's own feedback, read fresh on every request: their positives, and what they
  dismissed with which reason (`dismissals.reasons`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from beanie import PydanticObjectId

from app.models.dismissal import DismissReason
from app.models.interaction import OpportunityInteraction, Rsvp
from app.services import dismissals
from app.services.recommendations.facts import Kind
from app.services.recommendations.features import FloatArray
from app.services.recommendations.text import Run

CO_MIN_FOUNDERS = 5  # founders behind an item pair before it says "also saved" (k-anonymity)

POSITIVE_OPPORTUNITY: dict[str, Any] = {
    "$or": [{"saved": True}, {"application_status": {"$ne": None}}]
}


def _source(kind: Kind) -> tuple[Any, str, dict[str, Any]]:
    if kind == "opportunity":
        return OpportunityInteraction.get_motor_collection(), "opportunity_id", POSITIVE_OPPORTUNITY
    return Rsvp.get_motor_collection(), "event_id", {}


@dataclass(frozen=True)
class Feedback:
    """One user's own signals for one kind."""

    positives: frozenset[PydanticObjectId] = frozenset()
    dismissed: Mapping[PydanticObjectId, str | None] = field(default_factory=dict)

    def fingerprint(self) -> str:
        dismissed = sorted(f"{k}:{v}" for k, v in self.dismissed.items())
        raw = ";".join([*sorted(map(str, self.positives)), "|", *dismissed])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def dismissed_for(self, *reasons: str | None) -> list[PydanticObjectId]:
        return [item for item, reason in self.dismissed.items() if reason in reasons]

    @property
    def liked(self) -> frozenset[PydanticObjectId]:
        """Positives, and items dismissed because the founder already applied."""
        return self.positives | frozenset(self.dismissed_for(DismissReason.already_applied.value))


async def feedback(user_id: PydanticObjectId, kind: Kind) -> Feedback:
    collection, item_field, positive = _source(kind)
    cursor = collection.find({"user_id": user_id, **positive}, {item_field: 1, "_id": 0})
    positives = frozenset([PydanticObjectId(row[item_field]) async for row in cursor])
    return Feedback(positives, await dismissals.reasons(user_id, kind))


@dataclass(frozen=True)
class Interactions:
    loaded_at: float
    users: dict[PydanticObjectId, int]
    items: dict[PydanticObjectId, int]
    matrix: Any  # csr (users × items), 1.0 per positive interaction
    counts: FloatArray  # users per item
    _rows: dict[int, Any] = field(default_factory=dict, compare=False)

    def columns_for(self, facts_ids: list[PydanticObjectId], key: int) -> Any:
        """Each snapshot row's column here (-1: nobody interacted), cached per snapshot."""
        found = self._rows.get(key)
        if found is None or len(found) != len(facts_ids):
            found = np.array([self.items.get(i, -1) for i in facts_ids], np.int64)
            self._rows.clear()
            self._rows[key] = found
        return found

    def popularity(self, columns: Any) -> FloatArray:
        if len(self.counts) == 0:
            return np.zeros(len(columns), np.float64)
        out: FloatArray = np.where(columns >= 0, self.counts[np.maximum(columns, 0)], 0.0)
        return out

    def co_scores(
        self, columns: Any, sources: list[PydanticObjectId], user: PydanticObjectId | None
    ) -> FloatArray:
        """Σ over `sources` of cosine(users of source, users of item), per snapshot row,
        over the pairs at least CO_MIN_FOUNDERS other founders share."""
        cols = [self.items[s] for s in sources if s in self.items]
        if not cols or self.matrix.shape[0] == 0:
            return np.zeros(len(columns), np.float64)
        users_of = self.matrix[:, cols]  # users × sources
        if user is not None and user in self.users:  # not the founder's own co-occurrences
            others = np.ones(self.matrix.shape[0], np.float32)
            others[self.users[user]] = 0.0
            users_of = sp.diags(others) @ users_of
        together = sp.csr_matrix(users_of.T @ self.matrix)  # sources × items: founders with both
        together.data[together.data < CO_MIN_FOUNDERS] = 0.0
        together.eliminate_zeros()
        weights = 1.0 / np.sqrt(self.counts[cols])
        per_item = np.asarray(together.T @ weights, np.float64).ravel()
        per_item /= np.sqrt(np.maximum(self.counts, 1.0))
        out: FloatArray = np.where(columns >= 0, per_item[np.maximum(columns, 0)], 0.0)
        return out


def build_interactions(pairs: list[tuple[PydanticObjectId, PydanticObjectId]]) -> Interactions:
    users: dict[PydanticObjectId, int] = {}
    items: dict[PydanticObjectId, int] = {}
    rows, cols = [], []
    for user, item in set(pairs):
        rows.append(users.setdefault(user, len(users)))
        cols.append(items.setdefault(item, len(items)))
    matrix = sp.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(users), len(items))
    )
    counts = np.asarray(matrix.sum(axis=0), np.float64).ravel()
    return Interactions(time.monotonic(), users, items, matrix, counts)


class InteractionsCache:
    """Everyone's interactions with one kind, reloaded when older than `seconds`."""

    def __init__(self, kind: Kind, run: Run[Any], seconds: float) -> None:
        self.kind = kind
        self.run = run
        self.seconds = seconds
        self._current: Interactions | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> Interactions:
        found = self._current
        if found is not None and time.monotonic() - found.loaded_at < self.seconds:
            return found
        async with self._lock:
            found = self._current
            if found is None or time.monotonic() - found.loaded_at >= self.seconds:
                collection, item_field, positive = _source(self.kind)
                cursor = collection.find(positive, {"user_id": 1, item_field: 1, "_id": 0})
                pairs = [
                    (PydanticObjectId(r["user_id"]), PydanticObjectId(r[item_field]))
                    async for r in cursor
                ]
                found = await self.run(lambda: build_interactions(pairs))
                self._current = found
            return found
