"""Events: find, read, iCalendar, publish (with workflow), RSVP, attendees."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from app.api.deps import CurrentUser, IfMatch, OptionalUser, PageDep, SettingsDep
from app.api.http import set_created, set_etag
from app.api.routing import StrictRoute
from app.api.v1.endpoints.listing import CommonList, common_list, split_values
from app.api.v1.endpoints.revisions import add_revision_routes
from app.api.v1.endpoints.workflow import add_workflow_routes
from app.core.exceptions import ValidationFailed
from app.models.event import Event, EventFormat
from app.models.interaction import RsvpStatus
from app.schemas.catalogue import ItemTombstone
from app.schemas.common import error_responses
from app.schemas.event import (
    AttendeePage,
    AttendeeRead,
    EventCreate,
    EventPage,
    EventRead,
    EventUpdate,
    RsvpRead,
    RsvpRequest,
)
from app.schemas.validators import CountryCode, UtcDatetime
from app.services import catalogue
from app.services import events as event_service
from app.services.catalogue import Viewer
from app.services.events import EventFilters

router = APIRouter(prefix="/events", tags=["events"], route_class=StrictRoute)
Slugs = Annotated[list[str] | None, Query(max_length=30)]


async def present(who: Viewer, item: Event) -> EventRead:
    return EventRead.from_doc(
        item, show_link=await event_service.shows_link(who, item), show_reason=who.manages(item)
    )


@router.get(
    "", operation_id="events_list", response_model=EventPage, responses=error_responses(422)
)
async def list_events(
    principal: OptionalUser,
    page: PageDep,
    common: Annotated[CommonList, Depends(common_list)],
    type: Slugs = None,
    industries: Slugs = None,
    tags: Slugs = None,
    sdgs: Slugs = None,
    target_communities: Slugs = None,
    format: Annotated[list[EventFormat] | None, Query()] = None,
    organisation: Annotated[
        str | None, Query(max_length=80, description="Organisation id or slug.")
    ] = None,
    country: Annotated[CountryCode | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=120)] = None,
    city: Annotated[str | None, Query(max_length=120)] = None,
    start_from: Annotated[UtcDatetime | None, Query()] = None,
    start_to: Annotated[UtcDatetime | None, Query()] = None,
    open_now: Annotated[bool, Query(description="Not over and registration open.")] = False,
    free: Annotated[bool | None, Query()] = None,
    near_lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    near_lng: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=20000)] = None,
) -> EventPage:
    """Sorts: `start` (default), `newest`, `updated`, `relevance` (default with `q`).
    `near_lat`, `near_lng` and `radius_km` go together. With `updated_since` (incremental
    sync; sort `updated` only), events that left the public set since then come as
    tombstones: `id`, `status`, `updated_at`, nothing else."""
    near_parts = (near_lat, near_lng, radius_km)
    if any(p is not None for p in near_parts) and not all(p is not None for p in near_parts):
        raise ValidationFailed(
            "near_lat, near_lng and radius_km go together.",
            details=[{"loc": ["query", "radius_km"], "msg": "give all three"}],
        )
    who = await catalogue.viewer(principal)
    filters = EventFilters(
        types=split_values(type),
        industries=split_values(industries),
        tags=split_values(tags),
        sdgs=split_values(sdgs),
        target_communities=split_values(target_communities),
        formats=format or [],
        organisation=organisation,
        country=country,
        region=region,
        city=city,
        start_from=start_from,
        start_to=start_to,
        open_now=open_now,
        free=free,
    )
    query = common.to_query()
    if near_lat is not None and near_lng is not None and radius_km is not None:
        query.near = (near_lat, near_lng, radius_km)
    result = await event_service.list_events(who, filters, query, page)
    going = await event_service.going_event_ids(who, result.items)
    items: list[EventRead | ItemTombstone] = [
        ItemTombstone.of(e)
        if e.id in result.gone
        else EventRead.from_doc(
            e,
            show_link=who.manages(e) or e.id in going,
            show_reason=who.manages(e),
            distance_km=result.distances.get(e.id) if e.id else None,
        )
        for e in result.items
    ]
    return EventPage(
        items=items, next_cursor=result.next_cursor, total=result.total, facets=result.facets
    )


@router.post(
    "",
    operation_id="events_create",
    response_model=EventRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
async def create(principal: CurrentUser, body: EventCreate, response: Response) -> EventRead:
    who = await catalogue.viewer(principal)
    item = await catalogue.create(event_service.KIND, who, body.model_dump())
    set_created(response, f"/api/v1/events/{item.id}", item.version)
    return await present(who, item)


@router.get(
    "/{event_id}.ics",
    operation_id="events_ical",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "iCalendar file"},
        **error_responses(404),
    },
)
async def ical(principal: OptionalUser, event_id: str, settings: SettingsDep) -> Response:
    who = await catalogue.viewer(principal)
    body, filename = await event_service.ical(who, event_id, settings.public_base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{event_id}",
    operation_id="events_get",
    response_model=EventRead,
    responses=error_responses(404),
)
async def get(principal: OptionalUser, event_id: str, response: Response) -> EventRead:
    """By id or slug. The online link shows only to organisers and confirmed attendees."""
    who = await catalogue.viewer(principal)
    item = await catalogue.get_visible(event_service.KIND, who, event_id)
    set_etag(response, item.version)
    return await present(who, item)


@router.patch(
    "/{event_id}",
    operation_id="events_update",
    response_model=EventRead,
    responses={
        202: {
            "model": EventRead,
            "description": "Accepted: changes to moderated fields wait for staff as the item's "
            "pending revision (see `pending_revision`); what is live did not change.",
        },
        **error_responses(401, 403, 404, 409, 412),
    },
)
async def update(
    principal: CurrentUser, event_id: str, body: EventUpdate, response: Response, if_match: IfMatch
) -> EventRead:
    """Send `If-Match` with the ETag you read; a stale one gets 412. Once approved, a
    member's change to what readers rely on waits for staff (202, `pending_revision`);
    capacity, tags, industries, SDGs and communities go live at once."""
    who = await catalogue.viewer(principal)
    edit = await catalogue.update(
        event_service.KIND, who, event_id, body.model_dump(exclude_unset=True), if_match
    )
    item = edit.item
    if edit.queued:
        response.status_code = status.HTTP_202_ACCEPTED
    set_etag(response, item.version)
    return await present(who, item)


@router.put(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_set",
    response_model=RsvpRead,
    responses=error_responses(401, 404, 409),
)
async def set_rsvp(principal: CurrentUser, event_id: str, body: RsvpRequest) -> RsvpRead:
    """Going takes a seat if one is free, otherwise a place on the waitlist (in order)."""
    who = await catalogue.viewer(principal)
    return RsvpRead.from_doc(await event_service.rsvp(who, event_id, body.status))


@router.delete(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_cancel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404),
)
async def cancel_rsvp(principal: CurrentUser, event_id: str) -> None:
    """Frees your seat; the first person on the waitlist moves up."""
    who = await catalogue.viewer(principal)
    await event_service.cancel_rsvp(who, event_id)


@router.get(
    "/{event_id}/attendees",
    operation_id="events_attendees_list",
    response_model=AttendeePage,
    responses=error_responses(401, 403, 404),
)
async def attendees(
    principal: CurrentUser,
    event_id: str,
    page: PageDep,
    status_: Annotated[RsvpStatus | None, Query(alias="status")] = None,
) -> AttendeePage:
    who = await catalogue.viewer(principal)
    rows, cursor, total = await event_service.attendees(who, event_id, status_, page)
    items = [
        AttendeeRead(
            **RsvpRead.from_doc(r).model_dump(),
            full_name=u.full_name if u else "",
            email=u.email if u else "",
        )
        for r, u in rows
    ]
    return AttendeePage(items=items, next_cursor=cursor, total=total)


@router.get(
    "/{event_id}/attendees.csv",
    operation_id="events_attendees_csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "CSV file"},
        **error_responses(401, 403, 404),
    },
)
async def attendees_csv(principal: CurrentUser, event_id: str, request: Request) -> Response:
    who = await catalogue.viewer(principal)
    body, filename = await event_service.attendees_csv(who, event_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


add_workflow_routes(router, event_service.KIND, EventRead, present, "event_id")
add_revision_routes(router, event_service.KIND, EventRead, present, "event_id")
