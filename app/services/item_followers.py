"""Telling the people who follow an item what changed: savers of an opportunity, people
who RSVPed to an event (changes, cancellation), the organisation's members (moderation).
Each notification is keyed by the change (the item's version), so a task running twice
notifies once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from beanie import PydanticObjectId

from app.core.config import Settings
from app.models.catalogue import CatalogueItem
from app.models.event import Event
from app.models.interaction import OpportunityInteraction, Rsvp, RsvpStatus
from app.models.notification import ChangeNote, Reason, Subject
from app.models.opportunity import Opportunity
from app.models.organisation import Organisation, OrgRole
from app.models.preferences import NotificationPreferences
from app.services.notifications import Draft, notify, preferences
from app.services.notifications.timing import local_date, local_datetime

log = structlog.get_logger("app.notifications")

MODELS: dict[str, type[Opportunity] | type[Event]] = {"opportunity": Opportunity, "event": Event}
PLURAL = {"opportunity": "opportunities", "event": "events"}
LABELS = {
    "deadline": "deadline",
    "rolling": "rolling applications",
    "amount_min": "minimum amount",
    "amount_max": "maximum amount",
    "application_url": "application link",
    "start_at": "start",
    "end_at": "end",
    "registration_deadline": "registration deadline",
    "online_url": "online link",
    "timezone": "time zone",
}
DATES = {"deadline"}
# Fields only insiders see (an event's online link: organisers and people going, as
# `services/events/kind.going` decides for reads): their changes are told to insiders only.
INSIDER_FIELDS: dict[str, frozenset[str]] = {"event": frozenset({"online_url"})}
MOMENTS = {"start_at", "end_at", "registration_deadline"}


async def savers(kind: str, item_id: PydanticObjectId) -> list[PydanticObjectId]:
    """Who follows the item: opportunity savers; anyone with an RSVP to an event."""
    if kind == "opportunity":
        cursor = OpportunityInteraction.get_motor_collection().find(
            {"opportunity_id": item_id, "saved": True}, {"user_id": 1}
        )
    else:
        cursor = Rsvp.get_motor_collection().find({"event_id": item_id}, {"user_id": 1})
    return [PydanticObjectId(d["user_id"]) async for d in cursor]


async def insiders(kind: str, item_id: PydanticObjectId) -> set[PydanticObjectId]:
    """Followers who may see the kind's insider fields: people going to the event."""
    if kind != "event":
        return set()
    cursor = Rsvp.get_motor_collection().find(
        {"event_id": item_id, "status": RsvpStatus.going.value}, {"user_id": 1}
    )
    return {PydanticObjectId(d["user_id"]) async for d in cursor}


def _money(value: Any, currency: str | None) -> str:
    if value is None:
        return "none"
    return f"{int(value) / 100:,.2f} {currency or ''}".strip()


def _describe(name: str, value: Any, item: dict[str, Any], zone: str) -> str | None:
    if value is None:
        return None
    if name in DATES:
        return local_date(datetime.fromisoformat(value), zone)
    if name in MOMENTS:
        return local_datetime(datetime.fromisoformat(value), zone)
    if name in ("amount_min", "amount_max", "price"):
        return _money(value, item.get("currency"))
    if name == "eligibility" and isinstance(value, dict):
        parts = [f"{k.replace('_', ' ')}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                 for k, v in value.items() if v not in (None, [], "")]  # fmt: skip
        return "; ".join(parts) or "open to all"
    if name == "venue" and isinstance(value, dict):
        return ", ".join(str(value[k]) for k in ("name", "city", "country") if value.get(k)) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def notes(changes: list[dict[str, Any]], item: dict[str, Any], zone: str) -> list[ChangeNote]:
    return [
        ChangeNote(
            field=c["field"],
            before=_describe(c["field"], c["before"], item, zone),
            after=_describe(c["field"], c["after"], item, zone),
        )
        for c in changes
    ]


def sentence(note: ChangeNote) -> str:
    label = LABELS.get(note.field, note.field.replace("_", " "))
    if note.field in DATES | MOMENTS and note.before and note.after:
        return f"{label} moved from {note.before} to {note.after}"
    if note.before is None:
        return f"{label} set to {note.after}"
    if note.after is None:
        return f"{label} removed (was {note.before})"
    return f"{label} changed from {note.before} to {note.after}"


def _draft_change(
    settings: Settings, kind: str, item: CatalogueItem, version: int, changed: list[ChangeNote]
) -> Draft:
    summary = "; ".join(sentence(n) for n in changed)
    return Draft(
        category="saved_item_changed",
        event="changed",
        dedupe_key=f"change:{kind}:{item.id}:{version}",
        title=f"{item.title}: {sentence(changed[0])}",
        body=summary[0].upper() + summary[1:] + ".",
        subject=Subject(kind=kind, id=str(item.id), title=item.title),
        reason=Reason(
            type="saved_item" if kind == "opportunity" else "rsvp",
            id=str(item.id),
            label=item.title,
            preference="saved_item_changed",
        ),
        changes=changed,
        link=f"{settings.frontend_url}/{PLURAL[kind]}/{item.slug}",
        template="saved_item_changed",
    )


def _draft_cancelled(settings: Settings, item: CatalogueItem) -> Draft:
    return Draft(
        category="rsvp",
        event="event_cancelled",
        dedupe_key=f"rsvp:cancelled:{item.id}",
        title=f"Cancelled by the organiser: {item.title}",
        body=f"{item.organisation_name} cancelled “{item.title}”.",  # its reason is internal
        subject=Subject(kind="event", id=str(item.id), title=item.title),
        reason=Reason(type="rsvp", id=str(item.id), label=item.title, preference="rsvp"),
        link=f"{settings.frontend_url}/events/{item.slug}",
        template="event_cancelled",
    )


async def notify_savers(
    settings: Settings, kind: str, item_id: str, version: int, changes: list[dict[str, Any]]
) -> int:
    item = await MODELS[kind].get(PydanticObjectId(item_id))
    if item is None:
        return 0
    users = await savers(kind, PydanticObjectId(item_id))
    prefs = await preferences.get_many(users)
    cancelled = kind == "event" and any(
        c["field"] == "status" and c["after"] == "cancelled" for c in changes
    )
    rest = [c for c in changes if not (cancelled and c["field"] == "status")]
    hidden = INSIDER_FIELDS.get(kind, frozenset())
    outside = [c for c in rest if c["field"] not in hidden]  # what non-insiders may be told
    going = await insiders(kind, PydanticObjectId(item_id)) if len(outside) < len(rest) else set()
    plain = item.model_dump(mode="json")
    sent = 0
    for user_id in users:
        zone = prefs[user_id].timezone
        if cancelled and await notify(user_id, _draft_cancelled(settings, item), prefs[user_id]):
            sent += 1
        told = rest if user_id in going else outside
        if told:
            draft = _draft_change(settings, kind, item, version, notes(told, plain, zone))
            if await notify(user_id, draft, prefs[user_id]):
                sent += 1
    log.info("savers_notified", kind=kind, item_id=item_id, users=len(users), sent=sent)
    return sent


MODERATION_TITLES = {
    "approved": "Approved and published",
    "changes_requested": "Changes requested",
    "revision_approved": "Your changes were approved",
    "revision_rejected": "Your changes were not approved",
}


async def notify_members(
    settings: Settings,
    kind: str,
    item_id: str,
    outcome: str,
    version: int,
    reason: str | None,
    actor_id: str | None,
) -> int:
    """A moderation decision, to the organisation's owners and editors (not the moderator)."""
    item = await MODELS[kind].get(PydanticObjectId(item_id))
    if item is None:
        return 0
    org = await Organisation.get(item.organisation_id)
    if org is None:
        return 0
    members = [
        m.user_id
        for m in org.members
        if m.role in (OrgRole.owner, OrgRole.editor) and str(m.user_id) != actor_id
    ]
    prefs: dict[PydanticObjectId, NotificationPreferences] = await preferences.get_many(members)
    title = f"{MODERATION_TITLES.get(outcome, outcome)}: {item.title}"
    draft = Draft(
        category="moderation",
        event=outcome,
        dedupe_key=f"moderation:{kind}:{item.id}:{version}:{outcome}",
        title=title,
        body=f"Reason: {reason}" if reason else "",
        subject=Subject(kind=kind, id=str(item.id), title=item.title),
        reason=Reason(type="membership", id=str(org.id), label=org.name, preference="moderation"),
        link=f"{settings.frontend_url}/{PLURAL[kind]}/{item.slug}",
        template="moderation_outcome",
        context={"outcome": outcome, "moderation_reason": reason or ""},
    )
    sent = 0
    for user_id in members:
        if await notify(user_id, draft, prefs[user_id]):
            sent += 1
    return sent
