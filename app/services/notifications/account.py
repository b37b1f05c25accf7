"""The caller's own notification settings as the endpoints use them."""

from __future__ import annotations

from typing import Any

from app.models.preferences import NotificationPreferences
from app.services.auth import Principal
from app.services.notifications import preferences
from app.services.notifications.notify import reschedule_digest


async def read(principal: Principal) -> tuple[NotificationPreferences, bool]:
    stored = await NotificationPreferences.get(principal.id)
    return (await preferences.get(principal.id)), stored is not None


async def replace(principal: Principal, values: dict[str, Any]) -> NotificationPreferences:
    prefs = await preferences.replace(principal.id, values)
    await reschedule_digest(principal.id, prefs)
    from app.services import reminders  # reminders follow the new offsets and zone

    await reminders.resync_user(principal.id)
    return prefs
