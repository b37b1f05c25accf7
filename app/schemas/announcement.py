"""Admin announcements: the body of `POST /admin/announcements` and the read model."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.models.announcement import Announcement
from app.models.user import Role
from app.schemas.common import InputModel
from app.schemas.validators import CountryCode, SlugList, Url


class SegmentSchema(InputModel):
    roles: list[Role] = Field(default_factory=list, max_length=4)
    countries: list[CountryCode] = Field(default_factory=list, max_length=60)
    industries: SlugList = Field(default_factory=list)
    target_communities: SlugList = Field(default_factory=list)


class AnnouncementCreate(InputModel):
    title: str = Field(min_length=3, max_length=150)
    body: str = Field(min_length=1, max_length=5000, description="Plain text.")
    link: Url | None = None
    segment: SegmentSchema = Field(
        default_factory=SegmentSchema, description="Empty: every active user."
    )


class SegmentRead(BaseModel):
    roles: list[str]
    countries: list[str]
    industries: list[str]
    target_communities: list[str]


class AnnouncementRead(BaseModel):
    id: str
    title: str
    body: str
    link: str | None
    segment: SegmentRead
    status: Literal["queued", "sending", "done"]
    recipients: int = Field(description="Users reached so far (their preferences decide how).")
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_doc(cls, doc: Announcement) -> AnnouncementRead:
        return cls.model_construct(
            id=str(doc.id),
            title=doc.title,
            body=doc.body,
            link=doc.link,
            segment=SegmentRead.model_construct(**doc.segment.model_dump()),
            status=doc.status,
            recipients=doc.recipients,
            created_at=doc.created_at,
            finished_at=doc.finished_at,
        )
