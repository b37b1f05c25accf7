"""Pending revisions: a member's edit to approved content, waiting for staff.

Embedded in the item (one pending revision per item), so proposing, approving, rejecting
and withdrawing are each one conditional update of one document — no transactions needed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import PydanticObjectId
from pydantic import BaseModel, Field

from app.models.base import utcnow


class RevisionOutcome(StrEnum):
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class PendingRevision(BaseModel):
    id: PydanticObjectId = Field(default_factory=PydanticObjectId)
    # field -> proposed value (validated, normalised; derived fields are never stored here)
    changes: dict[str, Any]
    created_by: PydanticObjectId
    updated_by: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RevisionDecision(BaseModel):
    """The last revision's fate, for the organisation (e.g. the reason it was rejected)."""

    revision_id: PydanticObjectId
    outcome: RevisionOutcome
    reason: str | None = None
    decided_by: PydanticObjectId
    decided_at: datetime = Field(default_factory=utcnow)
