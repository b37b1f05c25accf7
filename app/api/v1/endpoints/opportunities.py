"""Opportunities: find, read, publish (with workflow), save and track applications."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import CurrentUser, IfMatch, OptionalUser, PageDep
from app.api.http import set_created, set_etag
from app.api.routing import StrictRoute
from app.api.v1.endpoints.listing import CommonList, common_list, split_values
from app.api.v1.endpoints.revisions import add_revision_routes
from app.api.v1.endpoints.workflow import add_workflow_routes
from app.models.opportunity import Opportunity
from app.models.profile import BusinessStage
from app.schemas.catalogue import ItemTombstone
from app.schemas.common import error_responses
from app.schemas.interaction import ApplicationRequest, InteractionRead
from app.schemas.opportunity import (
    OpportunityCreate,
    OpportunityPage,
    OpportunityRead,
    OpportunityUpdate,
)
from app.schemas.validators import CountryCode, CurrencyCode, UtcDatetime
from app.services import catalogue
from app.services import opportunities as opportunity_service
from app.services.catalogue import Viewer
from app.services.opportunities import OpportunityFilters
from app.utils.strict_json import INT_MAX

router = APIRouter(prefix="/opportunities", tags=["opportunities"], route_class=StrictRoute)
Slugs = Annotated[list[str] | None, Query(max_length=30)]


async def present(who: Viewer, item: Opportunity) -> OpportunityRead:
    return OpportunityRead.from_doc(
        item, status=opportunity_service.effective_status(item), show_reason=who.manages(item)
    )


@router.get(
    "",
    operation_id="opportunities_list",
    response_model=OpportunityPage,
    responses=error_responses(422),
)
async def list_opportunities(
    principal: OptionalUser,
    page: PageDep,
    common: Annotated[CommonList, Depends(common_list)],
    type: Slugs = None,
    industries: Slugs = None,
    stages: Annotated[list[BusinessStage] | None, Query()] = None,
    tags: Slugs = None,
    sdgs: Slugs = None,
    target_communities: Slugs = None,
    organisation: Annotated[
        str | None, Query(max_length=80, description="Organisation id or slug.")
    ] = None,
    country: Annotated[
        CountryCode | None, Query(description="Eligible country (ISO 3166-1 alpha-2).")
    ] = None,
    region: Annotated[str | None, Query(max_length=120)] = None,
    deadline_from: Annotated[UtcDatetime | None, Query()] = None,
    deadline_to: Annotated[UtcDatetime | None, Query()] = None,
    amount_min: Annotated[
        int | None, Query(ge=0, le=INT_MAX, description="Minor units; needs currency.")
    ] = None,
    amount_max: Annotated[
        int | None, Query(ge=0, le=INT_MAX, description="Minor units; needs currency.")
    ] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
    open_now: Annotated[bool, Query(description="Deadline not passed (or rolling).")] = False,
    featured: Annotated[bool | None, Query()] = None,
) -> OpportunityPage:
    """Sorts: `deadline` (default), `newest`, `updated`, `relevance` (default with `q`).
    With `updated_since` (incremental sync; sort `updated` only), items that left the public
    set since then come as tombstones: `id`, `status`, `updated_at`, nothing else."""
    who = await catalogue.viewer(principal)
    filters = OpportunityFilters(
        types=split_values(type),
        industries=split_values(industries),
        stages=stages or [],
        tags=split_values(tags),
        sdgs=split_values(sdgs),
        target_communities=split_values(target_communities),
        organisation=organisation,
        country=country,
        region=region,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        amount_min=amount_min,
        amount_max=amount_max,
        currency=currency,
        open_now=open_now,
        featured=featured,
    )
    result = await opportunity_service.list_opportunities(who, filters, common.to_query(), page)
    return OpportunityPage(
        items=[
            ItemTombstone.of(i) if i.id in result.gone else await present(who, i)
            for i in result.items
        ],
        next_cursor=result.next_cursor,
        total=result.total,
        facets=result.facets,
    )


@router.post(
    "",
    operation_id="opportunities_create",
    response_model=OpportunityRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
async def create(
    principal: CurrentUser, body: OpportunityCreate, response: Response
) -> OpportunityRead:
    """Organisation members (and staff) create drafts for their organisation."""
    who = await catalogue.viewer(principal)
    data = opportunity_service.prepare_create(body.model_dump())
    item = await catalogue.create(opportunity_service.KIND, who, data)
    set_created(response, f"/api/v1/opportunities/{item.id}", item.version)
    return await present(who, item)


@router.get(
    "/{opportunity_id}",
    operation_id="opportunities_get",
    response_model=OpportunityRead,
    responses=error_responses(404),
)
async def get(principal: OptionalUser, opportunity_id: str, response: Response) -> OpportunityRead:
    """By id or slug. Signed-in views are counted once per user per day."""
    who = await catalogue.viewer(principal)
    item = await opportunity_service.read(who, opportunity_id)
    set_etag(response, item.version)
    return await present(who, item)


@router.patch(
    "/{opportunity_id}",
    operation_id="opportunities_update",
    response_model=OpportunityRead,
    responses={
        202: {
            "model": OpportunityRead,
            "description": "Accepted: changes to moderated fields wait for staff as the item's "
            "pending revision (see `pending_revision`); what is live did not change.",
        },
        **error_responses(401, 403, 404, 409, 412),
    },
)
async def update(
    principal: CurrentUser,
    opportunity_id: str,
    body: OpportunityUpdate,
    response: Response,
    if_match: IfMatch,
) -> OpportunityRead:
    """Send `If-Match` with the ETag you read; a stale one gets 412. Once approved, a
    member's change to what readers rely on waits for staff (202, `pending_revision`);
    tags, industries, SDGs and communities go live at once. `featured`: staff only (403)."""
    who = await catalogue.viewer(principal)
    edit = await catalogue.update(
        opportunity_service.KIND, who, opportunity_id, body.model_dump(exclude_unset=True), if_match
    )
    item = edit.item
    if edit.queued:
        response.status_code = status.HTTP_202_ACCEPTED
    set_etag(response, item.version)
    return await present(who, item)


@router.put(
    "/{opportunity_id}/save",
    operation_id="opportunities_save",
    response_model=InteractionRead,
    responses=error_responses(401, 404),
)
async def save(principal: CurrentUser, opportunity_id: str) -> InteractionRead:
    who = await catalogue.viewer(principal)
    return InteractionRead.from_doc(await opportunity_service.set_saved(who, opportunity_id, True))


@router.delete(
    "/{opportunity_id}/save",
    operation_id="opportunities_unsave",
    response_model=InteractionRead,
    responses=error_responses(401, 404),
)
async def unsave(principal: CurrentUser, opportunity_id: str) -> InteractionRead:
    who = await catalogue.viewer(principal)
    return InteractionRead.from_doc(await opportunity_service.set_saved(who, opportunity_id, False))


@router.put(
    "/{opportunity_id}/application",
    operation_id="opportunities_application_set",
    response_model=InteractionRead,
    responses=error_responses(401, 404),
)
async def set_application(
    principal: CurrentUser, opportunity_id: str, body: ApplicationRequest
) -> InteractionRead:
    """Record where you are with this opportunity: interested, applied, awarded, rejected."""
    who = await catalogue.viewer(principal)
    return InteractionRead.from_doc(
        await opportunity_service.set_application(who, opportunity_id, body.status)
    )


@router.delete(
    "/{opportunity_id}/application",
    operation_id="opportunities_application_clear",
    response_model=InteractionRead,
    responses=error_responses(401, 404),
)
async def clear_application(principal: CurrentUser, opportunity_id: str) -> InteractionRead:
    who = await catalogue.viewer(principal)
    return InteractionRead.from_doc(
        await opportunity_service.set_application(who, opportunity_id, None)
    )


add_workflow_routes(router, opportunity_service.KIND, OpportunityRead, present, "opportunity_id")
add_revision_routes(router, opportunity_service.KIND, OpportunityRead, present, "opportunity_id")
