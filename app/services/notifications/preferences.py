"""Notification preferences: per category and channel a frequency, the digest time and time
zone, quiet hours, reminder offsets. Defaults until the user saves their own; announcements
are opt-in; account security cannot be switched off (the schema refuses it)."""

from __future__ import annotations

import contextlib
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.models.base import utcnow
from app.models.notification import CATEGORIES, Category, Channel, Frequency
from app.models.preferences import ChannelFrequencies, NotificationPreferences

DEFAULT_CHANNELS: dict[Category, tuple[Frequency, Frequency]] = {
    "saved_search_match": ("instant", "daily"),
    "saved_item_changed": ("instant", "instant"),
    "deadline_reminder": ("instant", "instant"),
    "event_reminder": ("instant", "instant"),
    "rsvp": ("instant", "instant"),
    "moderation": ("instant", "instant"),
    "organisation": ("instant", "instant"),
    "announcement": ("off", "off"),  # opt-in
    "account_security": ("instant", "instant"),  # cannot be switched off
}
LOCKED: frozenset[Category] = frozenset({"account_security"})


def default_channels() -> dict[str, ChannelFrequencies]:
    return {c: ChannelFrequencies(in_app=i, email=e) for c, (i, e) in DEFAULT_CHANNELS.items()}


def defaults(user_id: PydanticObjectId) -> NotificationPreferences:
    return NotificationPreferences(id=user_id, channels=default_channels())


def _complete(prefs: NotificationPreferences) -> NotificationPreferences:
    """Categories added after the document was saved take their defaults."""
    for category, channels in default_channels().items():
        prefs.channels.setdefault(category, channels)
    for category in LOCKED:
        prefs.channels[category] = default_channels()[category]
    return prefs


async def get(user_id: PydanticObjectId) -> NotificationPreferences:
    prefs = await NotificationPreferences.get(user_id)
    return _complete(prefs) if prefs is not None else defaults(user_id)


async def get_many(
    user_ids: list[PydanticObjectId],
) -> dict[PydanticObjectId, NotificationPreferences]:
    """Preferences of many users in one query (fan-out)."""
    found = await NotificationPreferences.find({"_id": {"$in": user_ids}}).to_list()
    stored = {p.id: _complete(p) for p in found}
    return {u: stored.get(u) or defaults(u) for u in user_ids}


def frequency(prefs: NotificationPreferences, category: Category, channel: Channel) -> str:
    channels = prefs.channels.get(category) or default_channels()[category]
    return str(getattr(channels, channel))


async def replace(user_id: PydanticObjectId, values: dict[str, Any]) -> NotificationPreferences:
    """PUT: the whole preferences; what is omitted takes its default. One upsert."""
    channels = default_channels()
    for category, given in (values.pop("channels", None) or {}).items():
        if given is not None:
            channels[category] = ChannelFrequencies(**given)
    prefs = _complete(
        NotificationPreferences(id=user_id, **values, channels=channels, updated_at=utcnow())
    )
    document = prefs.model_dump(by_alias=True, mode="python")
    document["_id"] = user_id
    await NotificationPreferences.get_motor_collection().replace_one(
        {"_id": user_id}, document, upsert=True
    )
    return prefs


async def switch_off_email(user_id: PydanticObjectId, category: Category) -> None:
    """One-click unsubscribe from a category's e-mail (never account security)."""
    if category in LOCKED:
        return
    collection = NotificationPreferences.get_motor_collection()
    if await collection.find_one({"_id": user_id}, {"_id": 1}) is None:
        document = defaults(user_id).model_dump(by_alias=True, mode="python")
        document["_id"] = user_id
        with contextlib.suppress(DuplicateKeyError):
            await collection.insert_one(document)
    await collection.update_one(
        {"_id": user_id},
        {"$set": {f"channels.{category}.email": "off", "updated_at": utcnow()}},
    )


__all__ = ["CATEGORIES", "LOCKED", "defaults", "frequency", "get", "get_many", "replace"]
