"""Saves and applications."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.models.interaction import ApplicationStatus, OpportunityInteraction
from app.schemas.catalogue import ItemTombstone, present_rows
from app.schemas.common import InputModel
from app.schemas.opportunity import OpportunityRead
from app.schemas.query import PageQuery, coded

if TYPE_CHECKING:
    from app.models.opportunity import Opportunity
    from app.services.catalogue import Rows

MyOpportunityStatus = Literal["saved", "interested", "applied", "awarded", "rejected"]


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
        return cls.model_construct(
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

    @classmethod
    def from_rows(cls, rows: Rows[OpportunityInteraction, Opportunity]) -> MyOpportunityPage:
        items = [
            MyOpportunityRead.model_construct(
                interaction=InteractionRead.from_doc(i), opportunity=o
            )
            for i, o in present_rows(rows, OpportunityRead.from_view)
        ]
        return cls(items=items, next_cursor=rows.next_cursor, total=rows.total)


class MyOpportunityQuery(PageQuery):
    error_codes: ClassVar[tuple[str, ...]] = (*PageQuery.error_codes, "INVALID_STATUS")
    status: Annotated[MyOpportunityStatus | None, coded("INVALID_STATUS")] = Field(
        default=None, description="Saved, or where your application stands."
    )
