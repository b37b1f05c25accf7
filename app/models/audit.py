"""Audit trail of changes to catalogue, organisation, partner and reference data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow


class AuditEntry(Document):
    actor_id: PydanticObjectId | None
    actor_role: str | None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)
    request_id: str | None = None

    class Settings:
        name = "audit_log"
        indexes = [
            IndexModel([("at", -1), ("_id", -1)], name="at"),
            IndexModel(
                [("entity", 1), ("entity_id", 1), ("at", -1), ("_id", -1)], name="entity_at"
            ),
            IndexModel([("actor_id", 1), ("at", -1), ("_id", -1)], name="actor_at"),
        ]
