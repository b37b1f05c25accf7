"""Admin: manage partnerships (audited)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import AdminDep, IfMatch, PathKey
from app.api.http import set_created, set_etag
from app.api.openapi_contract import SENDS_ETAG
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.organisation import (
    AdminPartnerQuery,
    PartnershipCreate,
    PartnershipPage,
    PartnershipRead,
    PartnershipUpdate,
)
from app.services import partners as partner_service

router = APIRouter(prefix="/partners", tags=["admin"], route_class=StrictRoute)
NOT_FOUND = error_responses(404, codes={404: ["PARTNER_NOT_FOUND"]})


@router.get("", operation_id="admin_partners_list")
async def list_all(_: AdminDep, query: Annotated[AdminPartnerQuery, Query()]) -> PartnershipPage:
    """Every partnership, active or not, with contact details."""
    items, cursor, total = await partner_service.list_admin(query)
    return PartnershipPage(
        items=[PartnershipRead.from_doc(p, show_contact=True) for p in items],
        next_cursor=cursor,
        total=total,
    )


@router.post(
    "",
    operation_id="admin_partners_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        404, 409, codes={404: ["ORGANISATION_NOT_FOUND"], 409: ["PARTNER_EXISTS"]}
    ),
    openapi_extra=SENDS_ETAG,
)
async def create(actor: AdminDep, body: PartnershipCreate, response: Response) -> PartnershipRead:
    """Make an organisation a platform partner (one partnership each); audited."""
    item = await partner_service.create(actor, body)
    set_created(response, f"/api/v1/admin/partners/{item.id}", item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.get(
    "/{partner_id}",
    operation_id="admin_partners_get",
    responses=NOT_FOUND,
    openapi_extra=SENDS_ETAG,
)
async def get(_: AdminDep, partner_id: PathKey, response: Response) -> PartnershipRead:
    """One partnership, with contact details."""
    item = await partner_service.get_admin(partner_id)
    set_etag(response, item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.patch(
    "/{partner_id}",
    operation_id="admin_partners_update",
    responses=error_responses(404, 412, codes={404: ["PARTNER_NOT_FOUND"]}),
    openapi_extra=SENDS_ETAG,
)
async def update(
    actor: AdminDep,
    partner_id: PathKey,
    body: PartnershipUpdate,
    response: Response,
    if_match: IfMatch,
) -> PartnershipRead:
    """Change dates, tier, contact or status; send `If-Match` with the ETag you read."""
    item = await partner_service.update(actor, partner_id, body, if_match)
    set_etag(response, item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.delete(
    "/{partner_id}",
    operation_id="admin_partners_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
)
async def delete(actor: AdminDep, partner_id: PathKey) -> None:
    """End a partnership for good; audited."""
    await partner_service.delete(actor, partner_id)
