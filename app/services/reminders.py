"""Reminders (filled in by the reminders step)."""

from __future__ import annotations

from beanie import PydanticObjectId


async def resync_user(user_id: PydanticObjectId) -> None:
    return None


async def resync_item(kind: str, item_id: str) -> None:
    return None
