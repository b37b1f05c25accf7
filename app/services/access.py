"""Who may do what: roles and organisation membership, shared by the services."""

from __future__ import annotations

from typing import TypeVar

from beanie import Document, PydanticObjectId
from bson.errors import InvalidId

from app.core.exceptions import NotFound
from app.models.organisation import Organisation, OrgRole
from app.models.user import Role
from app.services.auth import Principal

D = TypeVar("D", bound=Document)


def is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.role in (Role.admin, Role.staff)


def is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.role is Role.admin


async def member_org_ids(principal: Principal | None) -> set[PydanticObjectId]:
    """Organisations the caller belongs to (one indexed query on `members.user_id`)."""
    if principal is None:
        return set()
    cursor = Organisation.get_motor_collection().find(
        {"members.user_id": principal.id, "archived": False}, {"_id": 1}
    )
    return {PydanticObjectId(doc["_id"]) async for doc in cursor}


async def member_roles(principal: Principal | None) -> dict[PydanticObjectId, OrgRole]:
    """The caller's role in each (unarchived) organisation they belong to: one indexed query
    on `members.user_id`, projecting only the members' ids and roles."""
    if principal is None:
        return {}
    cursor = Organisation.get_motor_collection().find(
        {"members.user_id": principal.id, "archived": False},
        {"members.user_id": 1, "members.role": 1},
    )
    roles: dict[PydanticObjectId, OrgRole] = {}
    async for doc in cursor:
        for member in doc.get("members") or []:
            if member.get("user_id") == principal.id:
                roles[PydanticObjectId(doc["_id"])] = OrgRole(member["role"])
    return roles


def object_id(value: str, code: str, what: str) -> PydanticObjectId:
    """Parse an id from a path; a malformed one is simply 'not found'."""
    try:
        return PydanticObjectId(value)
    except (InvalidId, TypeError, ValueError) as exc:
        raise NotFound(f"The {what} was not found.", code=code) from exc


MAX_MERGE_HOPS = 3


async def by_id_or_slug(model: type[D], key: str) -> D | None:
    """Path keys may be an ObjectId or a slug (ids win when both could match). An item
    merged into another (`merged_into`, see services/ingestion/merge.py) leads to the one
    it was merged into: its id and slug keep working."""
    found: D | None = None
    if PydanticObjectId.is_valid(key):
        found = await model.get(PydanticObjectId(key))
    if found is None:
        found = await model.find_one({"slug": key})
    for _ in range(MAX_MERGE_HOPS):
        target = getattr(found, "merged_into", None)
        if target is None:
            break
        found = await model.get(target)
    return found
