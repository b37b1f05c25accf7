"""Items a user never wants to see again in alerts, digests or recommendations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow

ItemKind = Literal["opportunity", "event"]


class DismissReason(StrEnum):
    not_relevant = "not_relevant"
    not_eligible = "not_eligible"
    already_applied = "already_applied"
    other = "other"


class Dismissal(Document):
    """One per (user, kind, item): the unique index makes dismissing idempotent."""

    user_id: PydanticObjectId
    kind: ItemKind
    item_id: PydanticObjectId
    reason: DismissReason | None = None
    note: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dismissals"
        indexes = [
            IndexModel([("user_id", 1), ("kind", 1), ("item_id", 1)], unique=True, name="one_per_item"),
            IndexModel([("user_id", 1), ("updated_at", -1), ("_id", -1)], name="user_recent"),
            IndexModel([("user_id", 1), ("kind", 1), ("updated_at", -1), ("_id", -1)], name="user_kind_recent"),
        ]  # fmt: skip
