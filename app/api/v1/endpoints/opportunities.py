"""Opportunities: find, read, publish (with workflow), save and track applications."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import IfMatch, PathKey, SignedInViewer, ViewerDep
from app.api.openapi_contract import SENDS_ETAG
from app.api.routing import StrictRoute
from app.api.v1.endpoints.catalogue_routes import (
    accepted,
    add_item_routes,
    create_errors,
    created,
    edit_errors,
    tagged,
)
from app.schemas.common import error_responses
from app.schemas.interaction import ApplicationRequest, InteractionRead
from app.schemas.opportunity import (
    OpportunityCreate,
    OpportunityPage,
    OpportunityQuery,
    OpportunityRead,
    OpportunityUpdate,
)
from app.services.opportunities import opportunities

router = APIRouter(prefix="/opportunities", tags=["opportunities"], route_class=StrictRoute)


@router.get(
    "",
    operation_id="opportunities_list",
    responses=error_responses(422),
)
async def list_opportunities(
    who: ViewerDep, query: Annotated[OpportunityQuery, Query()]
) -> OpportunityPage:
    """Sorts: `deadline` (default), `newest`, `updated`, `relevance` (default with `q`).
    With `updated_since` (incremental sync; sort `updated` only), items that left the public
    set since then come as tombstones: `id`, `status`, `updated_at`, nothing else."""
    return OpportunityPage.from_listing(await opportunities.search(who, query))


@router.post(
    "",
    operation_id="opportunities_create",
    status_code=status.HTTP_201_CREATED,
    responses=create_errors("opportunity"),
    openapi_extra=SENDS_ETAG,
)
async def create(
    who: SignedInViewer, body: OpportunityCreate, response: Response
) -> OpportunityRead:
    """Organisation members (and staff) create drafts for their organisation."""
    view = await opportunities.create(who, body)
    return OpportunityRead.from_view(created(response, view, "opportunities"))


@router.get(
    "/{opportunity_id}",
    operation_id="opportunities_get",
    responses=error_responses(404),
    openapi_extra=SENDS_ETAG,
)
async def get(who: ViewerDep, opportunity_id: PathKey, response: Response) -> OpportunityRead:
    """By id or slug. Signed-in views are counted once per user per day."""
    view = await opportunities.read(who, opportunity_id)
    return OpportunityRead.from_view(tagged(response, view))


@router.patch(
    "/{opportunity_id}",
    operation_id="opportunities_update",
    responses=edit_errors("opportunity", OpportunityRead),
    openapi_extra=SENDS_ETAG,
)
async def update(
    who: SignedInViewer,
    opportunity_id: PathKey,
    body: OpportunityUpdate,
    response: Response,
    if_match: IfMatch,
) -> OpportunityRead:
    """Send `If-Match` with the ETag you read; a stale one gets 412. Once approved, a
    member's change to what readers rely on waits for staff (202, `pending_revision`);
    tags, industries, SDGs and communities go live at once. `featured`: staff only (403)."""
    edited = await opportunities.update(who, opportunity_id, body, if_match)
    return OpportunityRead.from_view(accepted(response, edited))


@router.put(
    "/{opportunity_id}/save",
    operation_id="opportunities_save",
    responses=error_responses(401, 404),
)
async def save(who: SignedInViewer, opportunity_id: PathKey) -> InteractionRead:
    """Bookmark it (saving twice is harmless); listed in `/me/opportunities`."""
    return InteractionRead.from_doc(await opportunities.save(who, opportunity_id))


@router.delete(
    "/{opportunity_id}/save",
    operation_id="opportunities_unsave",
    responses=error_responses(401, 404),
)
async def unsave(who: SignedInViewer, opportunity_id: PathKey) -> InteractionRead:
    """Remove the bookmark; works on items no longer public too."""
    return InteractionRead.from_doc(await opportunities.unsave(who, opportunity_id))


@router.put(
    "/{opportunity_id}/application",
    operation_id="opportunities_application_set",
    responses=error_responses(401, 404),
)
async def set_application(
    who: SignedInViewer, opportunity_id: PathKey, body: ApplicationRequest
) -> InteractionRead:
    """Record where you are with this opportunity: interested, applied, awarded, rejected."""
    row = await opportunities.set_application(who, opportunity_id, body.status)
    return InteractionRead.from_doc(row)


@router.delete(
    "/{opportunity_id}/application",
    operation_id="opportunities_application_clear",
    responses=error_responses(401, 404),
)
async def clear_application(who: SignedInViewer, opportunity_id: PathKey) -> InteractionRead:
    """Forget where you are with it; works on items no longer public too."""
    return InteractionRead.from_doc(await opportunities.clear_application(who, opportunity_id))


add_item_routes(router, opportunities, OpportunityRead, OpportunityRead.from_view, "opportunity_id")
