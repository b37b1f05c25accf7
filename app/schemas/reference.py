"""Reference data schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.models.reference import ReferenceItem, ReferenceKind
from app.schemas.common import InputModel, PatchModel

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class ReferenceRead(BaseModel):
    kind: ReferenceKind
    slug: str
    name: str
    description: str | None = None
    number: int | None = None
    position: int
    active: bool

    @classmethod
    def from_doc(cls, item: ReferenceItem) -> ReferenceRead:
        return cls.model_validate(item.model_dump(include=set(cls.model_fields)))


class ReferenceList(BaseModel):
    items: list[ReferenceRead]


class ReferenceCreate(InputModel):
    slug: str = Field(min_length=1, max_length=80, pattern=SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    number: int | None = Field(default=None, ge=1, le=1000)
    position: int = Field(default=0, ge=0, le=10000)


class ReferenceUpdate(PatchModel):
    nullable = frozenset({"description", "number"})
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)
    number: int | None = Field(default=None, ge=1, le=1000)
    position: int | None = Field(default=None, ge=0, le=10000)
    active: bool | None = None
