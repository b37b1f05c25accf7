"""RSVPs: seats with a capacity, an ordered waitlist promoted as seats free up, interest;
and the caller's own RSVPs with their events.

Every counter moves in one atomic conditional update; when two steps cannot be one write
(take a seat, then record the RSVP), the second failing undoes the first.
"""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.models.interaction import Rsvp, RsvpStatus
from app.services.catalogue import Rows, Viewer, get_for_own_row, get_visible, show, visible_to
from app.services.events.kind import KIND


def _open_for_rsvp(event: Event) -> None:
    now = utcnow()
    if event.status is not ItemStatus.published:
        raise Conflict("This event is not open for RSVPs.", code="EVENT_NOT_OPEN")
    if event.end_at <= now:
        raise Conflict("This event is over.", code="EVENT_OVER")
    if event.registration_deadline and event.registration_deadline <= now:
        raise Conflict("Registration for this event has closed.", code="REGISTRATION_CLOSED")


async def _claim_seat(event_id: PydanticObjectId, capacity: int | None) -> bool:
    if capacity is None:
        await Event.get_motor_collection().update_one(
            {"_id": event_id}, {"$inc": {"going_count": 1}}
        )
        return True
    doc = await Event.get_motor_collection().find_one_and_update(
        {"_id": event_id, "going_count": {"$lt": capacity}}, {"$inc": {"going_count": 1}}
    )
    return doc is not None


async def _next_waitlist_position(event_id: PydanticObjectId) -> int:
    doc = await Event.get_motor_collection().find_one_and_update(
        {"_id": event_id},
        {"$inc": {"waitlist_seq": 1, "waitlist_count": 1}},
        return_document=ReturnDocument.AFTER,
        projection={"waitlist_seq": 1},
    )
    assert doc is not None  # noqa: S101
    return int(doc["waitlist_seq"])


async def _counter(event_id: PydanticObjectId, name: str, delta: int) -> None:
    await Event.get_motor_collection().update_one({"_id": event_id}, {"$inc": {name: delta}})


async def _take_place(event: Event) -> tuple[RsvpStatus, int | None]:
    """Going if a seat is free, otherwise the next place on the waitlist."""
    assert event.id is not None  # noqa: S101
    if await _claim_seat(event.id, event.capacity):
        return RsvpStatus.going, None
    return RsvpStatus.waitlisted, await _next_waitlist_position(event.id)


async def _release(event: Event, status: RsvpStatus) -> None:
    """Undo what a status held: a seat (then promote the waitlist), a waitlist place, interest."""
    assert event.id is not None  # noqa: S101
    if status is RsvpStatus.going:
        await _counter(event.id, "going_count", -1)
        await promote_waitlist(event.id)
    elif status is RsvpStatus.waitlisted:
        await _counter(event.id, "waitlist_count", -1)
    elif status is RsvpStatus.interested:
        await _counter(event.id, "interested_count", -1)


async def promote_waitlist(event_id: PydanticObjectId) -> int:
    """Fill free seats from the head of the waitlist, in order. Returns how many moved."""
    moved = 0
    while True:
        event = await Event.get(event_id)
        if event is None or event.waitlist_count <= 0:
            return moved
        if not await _claim_seat(event_id, event.capacity):
            return moved
        head = await Rsvp.get_motor_collection().find_one_and_update(
            {"event_id": event_id, "status": RsvpStatus.waitlisted.value},
            {
                "$set": {
                    "status": RsvpStatus.going.value,
                    "waitlist_position": None,
                    "updated_at": utcnow(),
                }
            },
            sort=[("waitlist_position", 1)],
        )
        if head is None:  # nobody left after all: give the seat back
            await _counter(event_id, "going_count", -1)
            return moved
        await _counter(event_id, "waitlist_count", -1)
        moved += 1
        from app.services import rsvp_notices  # (it reaches notifications, which reach us)

        await rsvp_notices.promoted(event_id, head)


async def rsvp(who: Viewer, key: str, wanted: RsvpStatus) -> Rsvp:
    """Going takes a seat if one is free, otherwise the next place on the waitlist;
    asking again is idempotent, and a change releases what the old status held. The holder
    is told what it now is (once per change), and event reminders follow."""
    from app.services import rsvp_notices

    result = await _rsvp(who, key, wanted)
    event = await Event.get(result.event_id)
    if event is not None:
        await rsvp_notices.after_rsvp(event, result)
    return result


async def _rsvp(who: Viewer, key: str, wanted: RsvpStatus) -> Rsvp:
    if wanted is RsvpStatus.waitlisted:
        raise ValidationFailed(
            "Ask for going or interested; the waitlist is assigned.",
            code="INVALID_RSVP_STATUS",
            details=[{"loc": ["body", "status"], "msg": "going or interested"}],
        )
    event = await get_visible(KIND, who, key)
    _open_for_rsvp(event)
    assert event.id is not None  # noqa: S101
    user_id = who.user.id
    existing = await Rsvp.find_one({"event_id": event.id, "user_id": user_id})
    if existing is not None:
        return await _change(event, existing, wanted)
    if wanted is RsvpStatus.interested:
        status, position = RsvpStatus.interested, None
        await _counter(event.id, "interested_count", 1)
    else:
        status, position = await _take_place(event)
    try:
        return await Rsvp(
            event_id=event.id, user_id=user_id, status=status, waitlist_position=position
        ).insert()
    except DuplicateKeyError:
        # The same user raced themselves: undo our claim and treat it as a change.
        await _release(event, status)
        again = await Rsvp.find_one({"event_id": event.id, "user_id": user_id})
        assert again is not None  # noqa: S101
        return await _change(event, again, wanted)


async def _change(event: Event, current: Rsvp, wanted: RsvpStatus) -> Rsvp:
    assert event.id is not None  # noqa: S101
    if current.status is wanted or (
        current.status is RsvpStatus.waitlisted and wanted is RsvpStatus.going
    ):
        return current  # idempotent: already there (or already queued for a seat)
    if wanted is RsvpStatus.going:
        status, position = await _take_place(event)
    else:
        status, position = RsvpStatus.interested, None
        await _counter(event.id, "interested_count", 1)
    updated = await Rsvp.get_motor_collection().find_one_and_update(
        {"_id": current.id, "status": current.status.value},
        {"$set": {"status": status.value, "waitlist_position": position, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:  # changed concurrently: undo our claim
        await _release(event, status)
        raise Conflict("Your RSVP changed meanwhile; try again.", code="CONCURRENT_CHANGE")
    await _release(event, current.status)
    fresh = await Rsvp.get(current.id)
    assert fresh is not None  # noqa: S101
    return fresh


async def cancel_rsvp(who: Viewer, key: str) -> None:
    """Also for an event that left the public set since (it shows as a tombstone in /me)."""
    user_id = who.user.id

    async def has_rsvp(event: Event) -> bool:
        return await Rsvp.find_one({"event_id": event.id, "user_id": user_id}) is not None

    event = await get_for_own_row(KIND, who, key, has_rsvp)
    deleted = await Rsvp.get_motor_collection().find_one_and_delete(
        {"event_id": event.id, "user_id": user_id}
    )
    if deleted is None:
        raise NotFound("You have no RSVP for this event.", code="RSVP_NOT_FOUND")
    await _release(event, RsvpStatus(deleted["status"]))
    from app.services import rsvp_notices

    await rsvp_notices.after_cancel(event, user_id)


MY_EVENTS_SORT = SortSpec("-created", "created_at", -1)


async def mine(who: Viewer, page: PageParams) -> Rows[Rsvp, Event]:
    """The caller's RSVPs, newest first, each with its event — a tombstone view once it is
    no longer visible to them. Their RSVPs say whether they are going: no query per row."""
    rows, cursor, total = await paginate(Rsvp, {"user_id": who.user.id}, MY_EVENTS_SORT, page)
    found = await Event.find({"_id": {"$in": [r.event_id for r in rows]}}).to_list()
    events = {e.id: e for e in found}
    pairs = [(r, events[r.event_id]) for r in rows if r.event_id in events]
    gone = {e.id for _, e in pairs if e.id is not None and not visible_to(who, e)}
    going = {r.event_id for r, _ in pairs if r.status is RsvpStatus.going}
    views = await show(KIND, who, [e for _, e in pairs], insiders=going, gone=gone)
    return Rows([(r, v) for (r, _), v in zip(pairs, views, strict=True)], cursor, total)


async def move_rsvps(source: Event, keeper: Event) -> int:
    """A merge (services/ingestion/merge.py): RSVPs on `source` move to `keeper`. Going and
    waitlisted people take a seat there if one is free, else its waitlist (in the order
    they came); interest moves as interest; someone with an RSVP for the keeper keeps that
    one. Each move is one conditional write; a lost race gives back what it claimed."""
    moved = 0
    async for rsvp in Rsvp.find({"event_id": source.id}).sort("+created_at", "+_id"):
        if await Rsvp.find_one({"event_id": keeper.id, "user_id": rsvp.user_id}) is not None:
            await Rsvp.get_motor_collection().delete_one({"_id": rsvp.id, "event_id": source.id})
            continue
        if rsvp.status is RsvpStatus.interested:
            status, position = RsvpStatus.interested, None
            await _counter(keeper.id, "interested_count", 1)  # type: ignore[arg-type]
        else:
            status, position = await _take_place(keeper)
        try:
            result = await Rsvp.get_motor_collection().update_one(
                {"_id": rsvp.id, "event_id": source.id},
                {
                    "$set": {
                        "event_id": keeper.id,
                        "status": status.value,
                        "waitlist_position": position,
                        "updated_at": utcnow(),
                    }
                },
            )
            done = bool(result.modified_count)
        except DuplicateKeyError:  # the user RSVP'd the keeper meanwhile
            await Rsvp.get_motor_collection().delete_one({"_id": rsvp.id, "event_id": source.id})
            done = False
        if done:
            moved += 1
        else:
            await _release(keeper, status)
    return moved
