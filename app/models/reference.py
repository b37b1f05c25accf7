"""Reference data (industries, types, communities, SDGs, tags), referred to by slug."""

from __future__ import annotations

from enum import StrEnum

from beanie import Document
from pymongo import IndexModel

from app.models.base import Timestamps


class ReferenceKind(StrEnum):
    industries = "industries"
    opportunity_types = "opportunity-types"
    event_types = "event-types"
    target_communities = "target-communities"
    sdgs = "sdgs"
    tags = "tags"


class ReferenceItem(Document, Timestamps):
    kind: ReferenceKind
    slug: str
    name: str
    description: str | None = None
    number: int | None = None  # SDG number 1–17
    position: int = 0
    active: bool = True

    class Settings:
        name = "reference_items"
        indexes = [
            IndexModel([("kind", 1), ("slug", 1)], unique=True, name="kind_slug_unique"),
            IndexModel([("kind", 1), ("active", 1), ("position", 1)], name="kind_active_position"),
        ]
