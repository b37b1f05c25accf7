"""Persistence for background work: the effects ledger and the fields of claimable due work."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import utcnow


class TaskEffect(Document):
    """One side effect outside MongoDB (an SMTP send, a webhook call), keyed by what it is
    (`email:<message key>`), so a retried or duplicated task performs it once.

    `state` is `running` while a worker holds the lease (until `lease_until`), `done` after.
    A worker that dies mid-effect leaves `running` behind; once the lease has expired the
    next attempt takes the key over. Kept until `expires_at` (TTL index; mongomock 4.3, the
    embedded backend, also drops expired documents, when the collection is next read).
    """

    id: str  # type: ignore[assignment]
    state: Literal["running", "done"] = "running"
    lease_until: datetime
    holder: str | None = None  # the attempt holding the lease
    attempts: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "task_effects"
        indexes = [IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires")]


class DueWork(BaseModel):
    """Mix into a document whose units are claimed by `app.tasks.claims` (a reminder, a
    digest subscription, a feed): `due_at` is when the unit is next due (None: never), the
    `claim_*` fields say who holds it and until when. Declare `DUE_WORK_INDEX` with it."""

    due_at: datetime | None = None
    claim_token: str | None = None
    claim_until: datetime | None = None
    claim_attempts: int = 0


DUE_WORK_INDEX = IndexModel([("due_at", 1), ("claim_until", 1)], name="due_claim")
