"""The "at least one active admin" guard, safe under concurrency without transactions.

`AdminRoster` holds the ids of the active admins. Leaving it is one conditional update that
requires the leaver to be in it *and* a second id to stay (`ids.1` exists), done *before*
the user stops being an active admin; joining happens *after* a user became one. So every id
in the roster is an active admin, and of two concurrent demotions of the last two admins
exactly one can leave. A crash between the two writes can only make the roster smaller than
the truth (a demotion refused, never the last admin lost); `sync` at start rebuilds it.
"""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.exceptions import Conflict
from app.models.user import AdminRoster, Role, User

ROSTER_ID = "admins"


def last_admin() -> Conflict:
    return Conflict("The last active admin cannot be demoted or deactivated.", code="LAST_ADMIN")


async def sync() -> list[PydanticObjectId]:
    """Rebuild the roster from the users collection (at start; idempotent)."""
    ids = [
        user.id
        async for user in User.find(User.role == Role.admin, User.is_active == True)  # noqa: E712
        if user.id is not None
    ]
    await AdminRoster.get_motor_collection().update_one(
        {"_id": ROSTER_ID}, {"$set": {"ids": ids}}, upsert=True
    )
    return ids


async def join(user_id: PydanticObjectId) -> None:
    """After `user_id` became an active admin."""
    await AdminRoster.get_motor_collection().update_one(
        {"_id": ROSTER_ID}, {"$addToSet": {"ids": user_id}}, upsert=True
    )


async def leave(user_id: PydanticObjectId) -> None:
    """Before `user_id` stops being an active admin: one conditional update, or 409."""
    left = await AdminRoster.get_motor_collection().find_one_and_update(
        {"_id": ROSTER_ID, "ids": user_id, "ids.1": {"$exists": True}},
        {"$pull": {"ids": user_id}},
        return_document=ReturnDocument.AFTER,
    )
    if left is None:
        roster = await AdminRoster.get_motor_collection().find_one({"_id": ROSTER_ID})
        if roster is not None and user_id in roster.get("ids", []):
            raise last_admin()
        # Not in the roster: another request is demoting this admin right now.
        raise Conflict("This admin is being changed by another request.", code="CONCURRENT_CHANGE")
