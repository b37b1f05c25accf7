"""What an RSVP tells its holder: confirmation (going, or a place on the waitlist), and the
promotion from the waitlist when a seat frees up. Cancellation by the organiser is told by
`item_followers` (it is a change to the event). Also keeps event reminders in line."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.models.event import Event
from app.models.interaction import Rsvp, RsvpStatus
from app.models.notification import Reason, Subject
from app.services import reminders
from app.services.notifications import Draft, notify
from app.services.notifications.timing import local_datetime
from app.tasks import runtime


def _link(event: Event) -> str:
    active = runtime.current()
    base = active.settings.frontend_url if active else ""
    return f"{base}/events/{event.slug}"


def _draft(event: Event, rsvp: Rsvp, event_name: str, title: str, body: str, key: str) -> Draft:
    return Draft(
        category="rsvp",
        event=event_name,
        dedupe_key=key,
        title=title,
        body=body,
        subject=Subject(kind="event", id=str(event.id), title=event.title),
        reason=Reason(type="rsvp", id=str(event.id), label=event.title, preference="rsvp"),
        link=_link(event),
        template="rsvp_confirmation" if event_name != "waitlist_promoted" else "waitlist_promotion",
        context={"item_id": str(event.id)},
    )


async def after_rsvp(event: Event, rsvp: Rsvp) -> None:
    """Confirm what the RSVP now is (once per change of it)."""
    await reminders.sync(rsvp.user_id, "event", event.id)  # type: ignore[arg-type]
    when = local_datetime(event.start_at, event.timezone)
    if rsvp.status is RsvpStatus.going:
        title, body = f"You're going: {event.title}", f"See you on {when}."
    elif rsvp.status is RsvpStatus.waitlisted:
        title = f"You're on the waitlist: {event.title}"
        body = (
            f"Number {rsvp.waitlist_position} on the waitlist; we will tell you if a seat frees up."
        )
    else:
        title, body = f"Interested: {event.title}", f"It takes place on {when}."
    key = f"rsvp:{rsvp.id}:{rsvp.status.value}:{rsvp.updated_at.timestamp()}"
    await notify(rsvp.user_id, _draft(event, rsvp, f"rsvp_{rsvp.status.value}", title, body, key))


async def after_cancel(event: Event, user_id: PydanticObjectId) -> None:
    await reminders.sync(user_id, "event", event.id)  # type: ignore[arg-type]


async def promoted(event_id: PydanticObjectId, raw: dict[str, Any]) -> None:
    """A seat freed up and the waitlist's head got it."""
    event = await Event.get(event_id)
    if event is None:
        return
    rsvp = Rsvp.model_validate(raw)
    when = local_datetime(event.start_at, event.timezone)
    await notify(
        rsvp.user_id,
        _draft(
            event,
            rsvp,
            "waitlist_promoted",
            f"A seat is yours: {event.title}",
            f"You moved up from the waitlist and are going. See you on {when}.",
            f"rsvp:promoted:{rsvp.id}",
        ),
    )
