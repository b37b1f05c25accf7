"""Saved searches, what they matched, and the per-user count that enforces the cap."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow

SearchKind = Literal["opportunity", "event"]
AlertFrequency = Literal["instant", "daily", "weekly", "off"]


class SavedSearch(Document):
    """A user's stored list query. `params` is the query as validated (what the user sees);
    `spec` its compiled predicate and `keys` its selective terms — the percolator indexes
    searches by `keys` and evaluates `spec` in memory. Deleting marks it inactive (bumping
    `updated_at`), so percolators that load changes since their last look drop it too."""

    user_id: PydanticObjectId
    kind: SearchKind
    name: str
    params: dict[str, Any]
    spec: dict[str, Any]
    keys: list[str]
    alert: AlertFrequency = "daily"
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    looked_at: datetime | None = None  # the start of the window `/matches` shows
    looked_until: datetime | None = None  # when the user last looked

    class Settings:
        name = "saved_searches"
        indexes = [
            IndexModel([("user_id", 1), ("active", 1), ("created_at", -1), ("_id", -1)], name="user_recent"),
            IndexModel([("updated_at", 1), ("_id", 1)], name="changed"),
            IndexModel([("kind", 1), ("active", 1), ("keys", 1)], name="percolation_keys"),
        ]  # fmt: skip


class SavedSearchMatch(Document):
    """An item a saved search matched when it became public (once per search and item)."""

    search_id: PydanticObjectId
    user_id: PydanticObjectId
    item_kind: SearchKind
    item_id: PydanticObjectId
    matched_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "saved_search_matches"
        indexes = [
            IndexModel([("search_id", 1), ("item_id", 1)], unique=True, name="once_per_item"),
            IndexModel([("search_id", 1), ("matched_at", -1), ("_id", -1)], name="search_recent"),
        ]


class SavedSearchCount(Document):
    """How many active saved searches a user has (`_id` = the user): the cap is one
    conditional increment, so racing creations cannot pass it."""

    id: PydanticObjectId
    n: int = 0

    class Settings:
        name = "saved_search_counts"


class SavedSearchVersion(Document):
    """One document (`_id` "all") counting changes to saved searches: a percolator whose
    version is current skips reading changes (one lookup by id instead of a query)."""

    id: str = "all"  # type: ignore[assignment]
    version: int = 0

    class Settings:
        name = "saved_search_version"
