"""What catalogue items carry about where they came from and whether their links still work."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import PydanticObjectId
from pydantic import BaseModel


class Provenance(BaseModel):
    """Where an ingested or imported item came from (staff see it; readers never do)."""

    origin: str  # "source:<source id>" or "import:<kind>": the upsert key's namespace
    source_id: PydanticObjectId | None = None
    external_id: str  # the entry's id in its origin (a GUID, a UID, an opportunity number)
    url: str | None = None  # the original page
    fetched_at: datetime
    content_hash: str  # sha256 of the mapped fields that matter


LinkStatus = Literal["ok", "gone", "error"]


class LinkCheck(BaseModel):
    """The last check of an item's application link or page (the scheduled freshness sweep)."""

    url: str
    status: LinkStatus
    http_status: int | None = None
    reason: str | None = None
    checked_at: datetime
