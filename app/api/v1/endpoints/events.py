"""Events: find, read, iCalendar, publish (with workflow), RSVP, attendees."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import IfMatch, SettingsDep, SignedInViewer, ViewerDep
from app.api.routing import StrictRoute
from app.api.v1.endpoints.catalogue_routes import accepted, add_item_routes, created, tagged
from app.schemas.catalogue import edit_responses
from app.schemas.common import error_responses
from app.schemas.event import (
    AttendeePage,
    AttendeeQuery,
    AttendeeRead,
    EventCreate,
    EventPage,
    EventQuery,
    EventRead,
    EventUpdate,
    RsvpRead,
    RsvpRequest,
)
from app.services.events import events

router = APIRouter(prefix="/events", tags=["events"], route_class=StrictRoute)


def _file(body: bytes | str, media_type: str, filename: str, **headers: str) -> Response:
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media_type, headers={**disposition, **headers})


@router.get("", operation_id="events_list", responses=error_responses(422))
async def list_events(who: ViewerDep, query: Annotated[EventQuery, Query()]) -> EventPage:
    """Sorts: `start` (default), `newest`, `updated`, `relevance` (default with `q`).
    `near_lat`, `near_lng` and `radius_km` go together. With `updated_since` (incremental
    sync; sort `updated` only), events that left the public set since then come as
    tombstones: `id`, `status`, `updated_at`, nothing else."""
    return EventPage.from_listing(await events.search(who, query))


@router.post(
    "",
    operation_id="events_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
async def create(who: SignedInViewer, body: EventCreate, response: Response) -> EventRead:
    view = await events.create(who, body)
    return EventRead.from_view(created(response, view, "events"))


@router.get(
    "/{event_id}.ics",
    operation_id="events_ical",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "iCalendar file"},
        **error_responses(404),
    },
)
async def ical(who: ViewerDep, event_id: str, settings: SettingsDep) -> Response:
    body, filename = await events.ical(who, event_id, settings.public_base_url)
    return _file(body, "text/calendar; charset=utf-8", filename)


@router.get(
    "/{event_id}",
    operation_id="events_get",
    responses=error_responses(404),
)
async def get(who: ViewerDep, event_id: str, response: Response) -> EventRead:
    """By id or slug. The online link shows only to organisers and confirmed attendees."""
    view = await events.read(who, event_id)
    return EventRead.from_view(tagged(response, view))


@router.patch(
    "/{event_id}",
    operation_id="events_update",
    responses=edit_responses(EventRead),
)
async def update(
    who: SignedInViewer, event_id: str, body: EventUpdate, response: Response, if_match: IfMatch
) -> EventRead:
    """Send `If-Match` with the ETag you read; a stale one gets 412. Once approved, a
    member's change to what readers rely on waits for staff (202, `pending_revision`);
    capacity, tags, industries, SDGs and communities go live at once."""
    edited = await events.update(who, event_id, body, if_match)
    return EventRead.from_view(accepted(response, edited))


@router.put(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_set",
    responses=error_responses(401, 404, 409),
)
async def set_rsvp(who: SignedInViewer, event_id: str, body: RsvpRequest) -> RsvpRead:
    """Going takes a seat if one is free, otherwise a place on the waitlist (in order)."""
    return RsvpRead.from_doc(await events.rsvp(who, event_id, body.status))


@router.delete(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_cancel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404),
)
async def cancel_rsvp(who: SignedInViewer, event_id: str) -> None:
    """Frees your seat; the first person on the waitlist moves up."""
    await events.cancel_rsvp(who, event_id)


@router.get(
    "/{event_id}/attendees",
    operation_id="events_attendees_list",
    responses=error_responses(401, 403, 404),
)
async def attendees(
    who: SignedInViewer, event_id: str, query: Annotated[AttendeeQuery, Query()]
) -> AttendeePage:
    rows, cursor, total = await events.attendees(who, event_id, query)
    items = [AttendeeRead.from_row(r, u) for r, u in rows]
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
async def attendees_csv(who: SignedInViewer, event_id: str) -> Response:
    body, filename = await events.attendees_csv(who, event_id)
    return _file(body, "text/csv; charset=utf-8", filename, **{"Cache-Control": "no-store"})


add_item_routes(router, events, EventRead, EventRead.from_view, "event_id")
