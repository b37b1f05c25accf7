"""Admin: manage partnerships (audited)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import AdminDep, IfMatch
from app.api.http import set_created, set_etag
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

router = APIRouter(
    prefix="/partners", tags=["admin"], responses=error_responses(404), route_class=StrictRoute
)


@router.get("", operation_id="admin_partners_list")
async def list_all(_: AdminDep, query: Annotated[AdminPartnerQuery, Query()]) -> PartnershipPage:
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
    responses=error_responses(409),
)
async def create(actor: AdminDep, body: PartnershipCreate, response: Response) -> PartnershipRead:
    item = await partner_service.create(actor, body)
    set_created(response, f"/api/v1/admin/partners/{item.id}", item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.get("/{partner_id}", operation_id="admin_partners_get")
async def get(_: AdminDep, partner_id: str, response: Response) -> PartnershipRead:
    item = await partner_service.get_admin(partner_id)
    set_etag(response, item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.patch(
    "/{partner_id}",
    operation_id="admin_partners_update",
    responses=error_responses(412),
)
async def update(
    actor: AdminDep,
    partner_id: str,
    body: PartnershipUpdate,
    response: Response,
    if_match: IfMatch,
) -> PartnershipRead:
    item = await partner_service.update(actor, partner_id, body, if_match)
    set_etag(response, item.version)
    return PartnershipRead.from_doc(item, show_contact=True)


@router.delete(
    "/{partner_id}", operation_id="admin_partners_delete", status_code=status.HTTP_204_NO_CONTENT
)
async def delete(actor: AdminDep, partner_id: str) -> None:
    await partner_service.delete(actor, partner_id)
