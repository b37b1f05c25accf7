"""Uploaded files (the bytes live in blob storage; this is the record of them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow


class MediaPurpose(StrEnum):
    avatar = "avatar"
    organisation_logo = "organisation_logo"
    cover_image = "cover_image"
    attachment = "attachment"


class Media(Document):
    owner_id: PydanticObjectId
    purpose: MediaPurpose
    backend: str
    blob_name: str
    thumbnail_blob_name: str | None = None
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    original_filename: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "media"
        indexes = [
            IndexModel([("blob_name", 1)], unique=True, name="blob_unique"),
            IndexModel([("owner_id", 1), ("created_at", -1), ("_id", -1)], name="owner_created"),
        ]
