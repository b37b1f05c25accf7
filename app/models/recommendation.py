"""Recommendations: each user's cached ranking per kind, the catalogue's change counter, and
text embeddings (when an embedding provider is configured)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow

RecommendedKind = Literal["opportunity", "event"]


class RecommendationCache(Document):
    """One user's ranking of one kind, best first. Valid while `basis` (the profile's
    matching facts and the user's feedback) and `generation` (the catalogue's change counter)
    are what they are now, and younger than RECOMMENDATION_CACHE_SECONDS."""

    user_id: PydanticObjectId
    kind: RecommendedKind
    basis: str
    generation: int
    computed_at: datetime = Field(default_factory=utcnow)
    last_read_at: datetime = Field(default_factory=utcnow)
    # the ranking, best first, packed (services/recommendations/cache.py): per item its id,
    # its score in millionths and whether it is eligible — 17 bytes, one binary value
    ranking: bytes = b""

    class Settings:
        name = "recommendation_caches"
        indexes = [
            IndexModel([("user_id", 1), ("kind", 1)], unique=True, name="one_per_user_kind"),
            # the worker refreshes the most recently active users first
            IndexModel([("kind", 1), ("last_read_at", -1)], name="kind_active"),
        ]


class CatalogueGeneration(Document):
    """`_id` is the kind ("opportunity", "event"); `generation` counts changes that matter to
    recommendations (one `$inc` per change), so every process knows its in-memory index and
    every cached ranking is stale by comparing one number."""

    id: str  # type: ignore[assignment]  # the kind, not an ObjectId
    generation: int = 0
    changed_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "catalogue_generations"


class TextEmbedding(Document):
    """An embedding of an item's or a profile's text, so each text is sent to the embedding
    service once (`text_hash` says whether the stored vector is still the text's)."""

    owner: Literal["opportunity", "event", "profile"]
    owner_id: PydanticObjectId
    model: str  # deployment and dimensions: vectors of different models never mix
    text_hash: str
    vector: list[float]
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "text_embeddings"
        indexes = [
            IndexModel([("owner", 1), ("model", 1), ("owner_id", 1)], unique=True, name="one_per_owner"),
        ]  # fmt: skip
