"""Platform partners, listed publicly while active."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import PathKey
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.organisation import PartnerQuery, PartnershipPage, PartnershipRead
from app.services import partners as partner_service

router = APIRouter(prefix="/partners", tags=["partners"], route_class=StrictRoute)


@router.get("", operation_id="partners_list")
async def list_partners(query: Annotated[PartnerQuery, Query()]) -> PartnershipPage:
    """Active partnerships (no contact details), filtered and paged."""
    items, cursor, total = await partner_service.list_public(query)
    return PartnershipPage(
        items=[PartnershipRead.from_doc(p, show_contact=False) for p in items],
        next_cursor=cursor,
        total=total,
    )


@router.get(
    "/{partner_id}",
    operation_id="partners_get",
    responses=error_responses(404),
)
async def get_partner(partner_id: PathKey) -> PartnershipRead:
    """An active partnership (no contact details)."""
    return PartnershipRead.from_doc(
        await partner_service.get_public(partner_id), show_contact=False
    )
