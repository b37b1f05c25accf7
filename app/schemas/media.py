"""Media schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models.media import Media, MediaPurpose


class MediaRead(BaseModel):
    id: str
    owner_id: str
    purpose: MediaPurpose
    content_type: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    has_thumbnail: bool
    original_filename: str | None
    created_at: datetime
    content_url: str = Field(
        description="Absolute (PUBLIC_BASE_URL): usable as is in `<img src>` or a link."
    )
    thumbnail_url: str | None = Field(description="Absolute, like `content_url`.")

    @classmethod
    def from_doc(cls, m: Media, base_url: str) -> MediaRead:
        """`base_url`: PUBLIC_BASE_URL, so the links work outside the API client."""
        base = f"{base_url.rstrip('/')}/api/v1/media/{m.id}/content"
        return cls(
            id=str(m.id),
            owner_id=str(m.owner_id),
            purpose=m.purpose,
            content_type=m.content_type,
            size=m.size,
            sha256=m.sha256,
            width=m.width,
            height=m.height,
            has_thumbnail=m.thumbnail_blob_name is not None,
            original_filename=m.original_filename,
            created_at=m.created_at,
            content_url=base,
            thumbnail_url=f"{base}?thumbnail=true" if m.thumbnail_blob_name else None,
        )


def multipart_body(*, with_purpose: bool) -> dict[str, object]:
    """OpenAPI request body for routes that parse multipart themselves (streaming)."""
    properties: dict[str, object] = {"file": {"type": "string", "format": "binary"}}
    if with_purpose:
        properties["purpose"] = {"type": "string", "enum": [p.value for p in MediaPurpose]}
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


UPLOAD_SCHEMA = multipart_body(with_purpose=True)
FILE_ONLY_SCHEMA = multipart_body(with_purpose=False)
