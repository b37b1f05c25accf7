"""Saves and applications."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.interaction import ApplicationStatus, OpportunityInteraction
from app.schemas.catalogue import ItemTombstone
from app.schemas.common import InputModel
from app.schemas.opportunity import OpportunityRead


class ApplicationRequest(InputModel):
    status: ApplicationStatus


class InteractionRead(BaseModel):
    opportunity_id: str
    saved: bool
    saved_at: datetime | None
    application_status: ApplicationStatus | None
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: OpportunityInteraction) -> InteractionRead:
        return cls(
            opportunity_id=str(doc.opportunity_id),
            saved=doc.saved,
            saved_at=doc.saved_at,
            application_status=doc.application_status,
            updated_at=doc.updated_at,
        )


class MyOpportunityRead(BaseModel):
    interaction: InteractionRead
    opportunity: OpportunityRead | ItemTombstone = Field(
        description="A tombstone when the opportunity is no longer public (e.g. archived)."
    )


class MyOpportunityPage(Page[MyOpportunityRead]):
    """My saved opportunities and applications."""
