"""Events: find, read, iCalendar, publish (with workflow), RSVP, attendees."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import IfMatch, PathKey, SettingsDep, SignedInViewer, ViewerDep
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
from app.services.capabilities import Action, denial_codes
from app.services.events import events

router = APIRouter(prefix="/events", tags=["events"], route_class=StrictRoute)
DISPOSITION = {"$ref": "#/components/headers/Content-Disposition"}


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
    responses=create_errors("event"),
    openapi_extra=SENDS_ETAG,
)
async def create(who: SignedInViewer, body: EventCreate, response: Response) -> EventRead:
    """Organisation members (and staff) create drafts for their organisation."""
    view = await events.create(who, body)
    return EventRead.from_view(created(response, view, "events"))


@router.get(
    "/{event_id}.ics",
    operation_id="events_ical",
    response_class=Response,
    responses={
        200: {
            "description": "The event as an iCalendar file (`attachment`); its URL is absolute "
            "(PUBLIC_BASE_URL).",
            "content": {"text/calendar": {"schema": {"type": "string", "maxLength": 100000}}},
            "headers": {"Content-Disposition": DISPOSITION},
        },
        **error_responses(404),
    },
)
async def ical(who: ViewerDep, event_id: PathKey, settings: SettingsDep) -> Response:
    """For calendars: the event (its online link only for organisers and confirmed
    attendees), as whoever may see it."""
    body, filename = await events.ical(who, event_id, settings.public_base_url)
    return _file(body, "text/calendar; charset=utf-8", filename)


@router.get(
    "/{event_id}",
    operation_id="events_get",
    responses=error_responses(404),
    openapi_extra=SENDS_ETAG,
)
async def get(who: ViewerDep, event_id: PathKey, response: Response) -> EventRead:
    """By id or slug. The online link shows only to organisers and confirmed attendees."""
    view = await events.read(who, event_id)
    return EventRead.from_view(tagged(response, view))


@router.patch(
    "/{event_id}",
    operation_id="events_update",
    responses=edit_errors("event", EventRead),
    openapi_extra=SENDS_ETAG,
)
async def update(
    who: SignedInViewer, event_id: PathKey, body: EventUpdate, response: Response, if_match: IfMatch
) -> EventRead:
    """Send `If-Match` with the ETag you read; a stale one gets 412. Once approved, a
    member's change to what readers rely on waits for staff (202, `pending_revision`);
    capacity, tags, industries, SDGs and communities go live at once."""
    edited = await events.update(who, event_id, body, if_match)
    return EventRead.from_view(accepted(response, edited))


@router.put(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_set",
    responses=error_responses(
        401,
        404,
        409,
        422,
        codes={
            409: ["EVENT_NOT_OPEN", "EVENT_OVER", "REGISTRATION_CLOSED", "CONCURRENT_CHANGE"],
            422: ["INVALID_RSVP_STATUS"],
        },
    ),
)
async def set_rsvp(who: SignedInViewer, event_id: PathKey, body: RsvpRequest) -> RsvpRead:
    """Going takes a seat if one is free, otherwise a place on the waitlist (in order)."""
    return RsvpRead.from_doc(await events.rsvp(who, event_id, body.wanted))


@router.delete(
    "/{event_id}/rsvp",
    operation_id="events_rsvp_cancel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 404, codes={404: ["EVENT_NOT_FOUND", "RSVP_NOT_FOUND"]}),
)
async def cancel_rsvp(who: SignedInViewer, event_id: PathKey) -> None:
    """Frees your seat; the first person on the waitlist moves up."""
    await events.cancel_rsvp(who, event_id)


@router.get(
    "/{event_id}/attendees",
    operation_id="events_attendees_list",
    responses=error_responses(401, 403, 404, codes={403: denial_codes(Action.item_view_attendees)}),
)
async def attendees(
    who: SignedInViewer, event_id: PathKey, query: Annotated[AttendeeQuery, Query()]
) -> AttendeePage:
    """Who is going, interested or waitlisted (organisers and staff)."""
    rows, cursor, total = await events.attendees(who, event_id, query)
    items = [AttendeeRead.from_row(r, u) for r, u in rows]
    return AttendeePage(items=items, next_cursor=cursor, total=total)


@router.get(
    "/{event_id}/attendees.csv",
    operation_id="events_attendees_csv",
    response_class=Response,
    responses={
        200: {
            "description": "CSV (`attachment`, UTF-8): one row per attendee; times in ISO 8601 "
            "UTC with `Z`.",
            "content": {"text/csv": {"schema": {"type": "string", "maxLength": 10000000}}},
            "headers": {"Content-Disposition": DISPOSITION},
        },
        **error_responses(401, 403, 404, codes={403: denial_codes(Action.item_view_attendees)}),
    },
)
async def attendees_csv(who: SignedInViewer, event_id: PathKey) -> Response:
    """The attendee list as a spreadsheet (organisers and staff)."""
    body, filename = await events.attendees_csv(who, event_id)
    return _file(body, "text/csv; charset=utf-8", filename, **{"Cache-Control": "no-store"})


add_item_routes(router, events, EventRead, EventRead.from_view, "event_id")
