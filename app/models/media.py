"""Uploaded files (the bytes live in blob storage; this is the record of them)."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import IndexModel

from app.models.base import utcnow


class MediaPurpose(StrEnum):
    avatar = "avatar"
    organisation_logo = "organisation_logo"
    cover_image = "cover_image"
    attachment = "attachment"


class MediaOwnerKind(StrEnum):
    """What a file can be attached to (services/media_owners.py says how each behaves)."""

    profile = "profile"
    organisation = "organisation"
    opportunity = "opportunity"
    event = "event"


class MediaOwnerRef(BaseModel):
    kind: MediaOwnerKind
    id: PydanticObjectId


def random_object_id() -> PydanticObjectId:
    """96 random bits in ObjectId form. Media ids are handed to clients, and a regular
    ObjectId (timestamp + counter) lets anyone who holds one count their way to others.
    Same type as before, so references to older (sequential) ids keep working."""
    return PydanticObjectId(secrets.token_bytes(12))


class Media(Document):
    id: PydanticObjectId | None = Field(default_factory=random_object_id)
    owner_id: PydanticObjectId  # the user who uploaded it
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
    # The object it is attached to; its visibility decides who may see the file. Records
    # written before this field existed lack it entirely (see media.backfill_owner_links).
    attached_to: MediaOwnerRef | None = None
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "media"
        indexes = [
            IndexModel([("blob_name", 1)], unique=True, name="blob_unique"),
            IndexModel([("owner_id", 1), ("created_at", -1), ("_id", -1)], name="owner_created"),
            IndexModel([("attached_to.kind", 1), ("attached_to.id", 1)], name="attached_to"),
        ]
