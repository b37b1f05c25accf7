"""Idempotent effects: a task may run twice (a retry, a redelivery, two sweeps), what it
produces must not appear twice.

Two patterns, pick by where the effect lands:

1. **The effect is a MongoDB document** (a notification, a digest record, a match): give the
   document a unique index on what identifies it — (user, item), (user, period) — and insert
   it with `insert_once`. The second insert meets the index and changes nothing.

2. **The effect leaves MongoDB** (an SMTP send, a webhook): wrap it in `run_once(key, …)`.
   The key is recorded in the `task_effects` ledger with a lease: `done` once performed,
   `running` while a worker performs it. A duplicate that arrives meanwhile is told
   `IN_PROGRESS` and skips; if the worker dies, the lease expires and the next attempt
   performs it (the one case where an outside effect can happen twice — the SMTP send
   carries a stable Message-ID, so mailboxes fold the copy).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum

import structlog
from beanie import Document
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.models.base import utcnow
from app.models.task import TaskEffect

log = structlog.get_logger("app.tasks")

DEFAULT_LEASE = timedelta(minutes=2)
DEFAULT_KEEP = timedelta(days=30)


class Outcome(StrEnum):
    PERFORMED = "performed"
    ALREADY_DONE = "already_done"
    IN_PROGRESS = "in_progress"


async def insert_once(document: Document) -> bool:
    """Insert a document whose unique index is its idempotency key: True when inserted now,
    False when an equal one already exists (another run produced it)."""
    try:
        await document.insert()
    except DuplicateKeyError:
        return False
    return True


async def run_once(
    key: str,
    effect: Callable[[], Awaitable[None]],
    *,
    lease: timedelta = DEFAULT_LEASE,
    keep: timedelta = DEFAULT_KEEP,
) -> Outcome:
    """Perform `effect` unless the ledger says `key` is done or held by a live worker. The
    lease must outlast the effect (SMTP: its timeout). If `effect` raises, the key is released
    at once for the retry, and the exception propagates."""
    ledger = TaskEffect.get_motor_collection()
    now = utcnow()
    holder = uuid.uuid4().hex
    try:
        await ledger.find_one_and_update(
            {"_id": key, "state": "running", "lease_until": {"$lte": now}},
            {
                "$set": {"lease_until": now + lease, "holder": holder, "expires_at": now + keep},
                "$inc": {"attempts": 1},
                "$setOnInsert": {"created_at": now, "done_at": None},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        existing = await ledger.find_one({"_id": key}, {"state": 1})
        if existing is not None and existing.get("state") == "done":
            return Outcome.ALREADY_DONE
        log.info("effect_in_progress_elsewhere", effect_key=key)
        return Outcome.IN_PROGRESS
    try:
        await effect()
    except BaseException:
        await ledger.update_one(
            {"_id": key, "holder": holder, "state": "running"},
            {"$set": {"lease_until": now - timedelta(seconds=1), "holder": None}},
        )
        raise
    done = utcnow()
    await ledger.update_one(
        {"_id": key}, {"$set": {"state": "done", "done_at": done, "expires_at": done + keep}}
    )
    return Outcome.PERFORMED


async def is_done(key: str) -> bool:
    doc = await TaskEffect.get_motor_collection().find_one({"_id": key}, {"state": 1})
    return doc is not None and doc.get("state") == "done"
