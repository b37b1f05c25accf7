"""Organisations and their members."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import CurrentUser, IfMatch, OptionalUser, PageDep, Publisher
from app.api.http import set_created, set_etag
from app.api.routing import StrictRoute
from app.models.organisation import Organisation, OrganisationType
from app.schemas.common import error_responses
from app.schemas.organisation import (
    MemberAdd,
    OrganisationCreate,
    OrganisationPage,
    OrganisationRead,
    OrganisationUpdate,
)
from app.schemas.validators import CountryCode
from app.services import organisations as org_service
from app.services.auth import Principal

router = APIRouter(prefix="/organisations", tags=["organisations"], route_class=StrictRoute)


def _read(principal: Principal | None, org: Organisation) -> OrganisationRead:
    return OrganisationRead.from_doc(org, show_members=org_service.shows_members(principal, org))


@router.get("", operation_id="organisations_list", response_model=OrganisationPage)
async def list_organisations(
    principal: OptionalUser,
    page: PageDep,
    type: Annotated[OrganisationType | None, Query()] = None,
    country: Annotated[CountryCode | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    mine: Annotated[bool, Query(description="Only organisations I belong to.")] = False,
    sort: Annotated[str, Query(description="name or newest")] = "name",
) -> OrganisationPage:
    items, cursor, total = await org_service.list_organisations(
        principal, type_=type, country=country, q=q, mine=mine, sort=sort, page=page
    )
    return OrganisationPage(
        items=[_read(principal, o) for o in items], next_cursor=cursor, total=total
    )


@router.post(
    "",
    operation_id="organisations_create",
    response_model=OrganisationRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
)
async def create(
    principal: Publisher, body: OrganisationCreate, response: Response
) -> OrganisationRead:
    """Partners, staff and admins; the creator becomes its owner."""
    org = await org_service.create(principal, body)
    set_created(response, f"/api/v1/organisations/{org.id}", org.version)
    return _read(principal, org)


@router.get(
    "/{organisation_id}",
    operation_id="organisations_get",
    response_model=OrganisationRead,
    responses=error_responses(404),
)
async def get(
    principal: OptionalUser, organisation_id: str, response: Response
) -> OrganisationRead:
    """By id or slug."""
    org = await org_service.get(principal, organisation_id)
    set_etag(response, org.version)
    return _read(principal, org)


@router.patch(
    "/{organisation_id}",
    operation_id="organisations_update",
    response_model=OrganisationRead,
    responses=error_responses(401, 403, 404, 412),
)
async def update(
    principal: CurrentUser,
    organisation_id: str,
    body: OrganisationUpdate,
    response: Response,
    if_match: IfMatch,
) -> OrganisationRead:
    org = await org_service.update(principal, organisation_id, body, if_match)
    set_etag(response, org.version)
    return _read(principal, org)


@router.delete(
    "/{organisation_id}",
    operation_id="organisations_archive",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def archive(principal: CurrentUser, organisation_id: str) -> None:
    """Soft delete (owners, staff, admins)."""
    await org_service.set_archived(principal, organisation_id, True)


@router.post(
    "/{organisation_id}/restore",
    operation_id="organisations_restore",
    response_model=OrganisationRead,
    responses=error_responses(401, 403, 404),
)
async def restore(principal: CurrentUser, organisation_id: str) -> OrganisationRead:
    return _read(principal, await org_service.set_archived(principal, organisation_id, False))


@router.post(
    "/{organisation_id}/members",
    operation_id="organisations_members_add",
    response_model=OrganisationRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
async def add_member(
    principal: CurrentUser, organisation_id: str, body: MemberAdd
) -> OrganisationRead:
    return _read(principal, await org_service.add_member(principal, organisation_id, body))


@router.delete(
    "/{organisation_id}/members/{user_id}",
    operation_id="organisations_members_remove",
    response_model=OrganisationRead,
    responses=error_responses(401, 403, 404, 409),
)
async def remove_member(
    principal: CurrentUser, organisation_id: str, user_id: str
) -> OrganisationRead:
    return _read(principal, await org_service.remove_member(principal, organisation_id, user_id))
