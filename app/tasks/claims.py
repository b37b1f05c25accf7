"""Due work claimed in MongoDB, one conditional update per unit.

A *unit* is a document with the `DueWork` fields (`app/models/task.py`): a reminder, a user's
digest subscription, a feed to poll. It is due when `due_at <= now`. A sweep (usually a task
on a schedule) claims units one at a time with a single `find_one_and_update` whose filter
holds the condition — due, and not claimed or its claim expired — so however many sweeps
run at once, on however many instances, each unit is held by one of them. The holder does
the work and completes the unit (moving `due_at` to the next period, or to None), again
conditionally on still holding the claim.

Failure and crash handling:
- the handler raises → the claim is released with a back-off (`claim_until` in the future),
  so the unit is retried by a later sweep, not in a tight loop;
- the worker dies → nobody releases; the claim expires after `lease` and the next sweep
  takes the unit over. The handler may therefore run twice for one period: what it produces
  must be keyed by (unit, period) — `claim.period` — see `app.tasks.effects`;
- a handler slower than its lease can `extend` it; `complete` after losing the claim returns
  False (someone else took over) and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo import ReturnDocument

from app.models.base import utcnow
from app.tasks.middleware import backoff_seconds

log = structlog.get_logger("app.tasks")


@dataclass(frozen=True, slots=True)
class Claim:
    """A unit held by this sweep: its document as claimed, and the token that proves it."""

    id: Any
    token: str
    due_at: datetime
    attempt: int
    document: Mapping[str, Any]

    @property
    def period(self) -> str:
        """The period being worked on (the due time claimed): the same for every attempt at
        this period, so effects keyed by (unit, period) are produced once."""
        return self.due_at.isoformat()


@dataclass(slots=True)
class SweepResult:
    completed: int = 0
    failed: int = 0
    lost: int = 0
    claimed_ids: list[Any] = field(default_factory=list)


class DueQueue:
    """The units of one collection (a Motor collection or anything with the same methods,
    e.g. `MyDocument.get_motor_collection()`), optionally narrowed by `where`."""

    def __init__(
        self,
        collection: Any,
        *,
        lease: timedelta = timedelta(minutes=5),
        where: Mapping[str, Any] | None = None,
        retry_base: timedelta = timedelta(seconds=30),
        retry_cap: timedelta = timedelta(hours=1),
    ) -> None:
        self.collection = collection
        self.lease = lease
        self.where = dict(where or {})
        self.retry_base = retry_base
        self.retry_cap = retry_cap

    def _due(self, now: datetime) -> dict[str, Any]:
        due = {
            "due_at": {"$lte": now},
            "$or": [{"claim_until": None}, {"claim_until": {"$lte": now}}],
        }
        return {"$and": [self.where, due]} if self.where else due

    async def claim(self, *, now: datetime | None = None) -> Claim | None:
        """Take the most overdue unclaimed unit, or None when nothing is due."""
        now = now or utcnow()
        token = uuid.uuid4().hex
        doc = await self.collection.find_one_and_update(
            self._due(now),
            {
                "$set": {"claim_token": token, "claim_until": now + self.lease},
                "$inc": {"claim_attempts": 1},
            },
            sort=[("due_at", 1), ("_id", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Claim(doc["_id"], token, doc["due_at"], int(doc.get("claim_attempts", 1)), doc)

    def _held(self, claim: Claim) -> dict[str, Any]:
        return {"_id": claim.id, "claim_token": claim.token}

    async def extend(self, claim: Claim, *, now: datetime | None = None) -> bool:
        """Keep holding a unit whose work outlasts the lease. False: the claim was lost."""
        now = now or utcnow()
        result = await self.collection.update_one(
            self._held(claim), {"$set": {"claim_until": now + self.lease}}
        )
        return bool(result.modified_count)

    async def complete(
        self,
        claim: Claim,
        *,
        next_due: datetime | None,
        set_fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """The period is done: the unit is next due at `next_due` (None: never). False when
        the claim was lost meanwhile (the other holder completes it)."""
        result = await self.collection.update_one(
            self._held(claim),
            {
                "$set": {
                    **(set_fields or {}),
                    "due_at": next_due,
                    "claim_token": None,
                    "claim_until": None,
                    "claim_attempts": 0,
                }
            },
        )
        return bool(result.modified_count)

    async def release(self, claim: Claim, *, now: datetime | None = None) -> datetime:
        """The work failed: leave the unit due, untouchable until a back-off has passed."""
        now = now or utcnow()
        delay = backoff_seconds(
            claim.attempt, self.retry_base.total_seconds(), self.retry_cap.total_seconds()
        )
        retry_at = now + timedelta(seconds=delay)
        await self.collection.update_one(
            self._held(claim), {"$set": {"claim_token": None, "claim_until": retry_at}}
        )
        return retry_at

    async def sweep(
        self,
        handler: Callable[[Claim], Awaitable[datetime | None]],
        *,
        limit: int = 100,
        now: Callable[[], datetime] = utcnow,
    ) -> SweepResult:
        """Claim and work through up to `limit` due units. `handler(claim)` does the period's
        work and returns when the unit is next due (None: never again)."""
        result = SweepResult()
        for _ in range(limit):
            claim = await self.claim(now=now())
            if claim is None:
                break
            result.claimed_ids.append(claim.id)
            try:
                next_due = await handler(claim)
            except Exception as exc:
                retry_at = await self.release(claim, now=now())
                result.failed += 1
                log.warning(
                    "due_work_failed",
                    unit_id=str(claim.id),
                    attempt=claim.attempt,
                    error=type(exc).__name__,
                    retry_at=retry_at.isoformat(),
                )
                continue
            if await self.complete(claim, next_due=next_due):
                result.completed += 1
            else:
                result.lost += 1
                log.warning("due_work_claim_lost", unit_id=str(claim.id))
        return result
