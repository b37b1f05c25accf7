"""Membership changes: removal, leaving, demotion, and joining through an accepted invitation.

A change that could leave an organisation without an owner — removing or demoting an owner —
is one conditional update whose filter requires *another* owner to remain, never a check
followed by a write: two owners removing each other at the same moment cannot both succeed.
Nobody is added or promoted here except by `services/invitations.py` on acceptance.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.exceptions import Conflict, NotFound
from app.models.base import utcnow
from app.models.organisation import Member, Organisation, OrgRole
from app.schemas.invitation import MemberRoleUpdate
from app.services import audit, capabilities
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.organisations import ENTITY, get, get_for, role_in


def _member_not_found() -> NotFound:
    return NotFound("This user is not a member.", code="MEMBER_NOT_FOUND")


def _last_owner() -> Conflict:
    return Conflict("An organisation keeps at least one owner.", code="LAST_OWNER")


def _another_owner(user_id: PydanticObjectId) -> dict[str, Any]:
    """Filter clause: an owner other than `user_id` remains."""
    return {"members": {"$elemMatch": {"role": OrgRole.owner.value, "user_id": {"$ne": user_id}}}}


def _member_id(org: Organisation, user_id: str) -> PydanticObjectId:
    target = PydanticObjectId(user_id) if PydanticObjectId.is_valid(user_id) else None
    if target is None or org.role_of(target) is None:
        raise _member_not_found()
    return target


async def _reload(org_id: Any) -> Organisation:
    fresh = await Organisation.get(org_id)
    if fresh is None:
        raise NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")
    return fresh


async def remove_member(principal: Principal, key: str, user_id: str) -> Organisation:
    """Owners remove members; any member may leave. Never the last owner."""
    org = await get(principal, key)
    leaving = user_id == str(principal.id)
    capabilities.require(
        principal, role_in(principal, org), Action.member_leave if leaving else Action.member_remove
    )
    target = _member_id(org, user_id)
    before = await Organisation.get_motor_collection().find_one_and_update(
        {"_id": org.id, "members.user_id": target, **_another_owner(target)},
        {
            "$pull": {"members": {"user_id": target}},
            "$set": {"updated_at": utcnow()},
            "$inc": {"version": 1},
        },
        projection={"members": 1},
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        fresh = await _reload(org.id)
        raise _member_not_found() if fresh.role_of(target) is None else _last_owner()
    role = next(m["role"] for m in before["members"] if m["user_id"] == target)
    await audit.record(
        principal, "member_remove", ENTITY, org.id, {"member": str(target), "role": role}, None
    )
    return await _reload(org.id)


async def change_role(
    principal: Principal, key: str, user_id: str, data: MemberRoleUpdate
) -> Organisation:
    """Owners demote owners to editors (never the last one). Nobody is made an owner here:
    they are invited as owner and become one by accepting."""
    org = await get_for(principal, key, Action.member_demote)
    target = _member_id(org, user_id)
    for _attempt in range(5):
        current = org.role_of(target)
        if current is None:
            raise _member_not_found()
        if current is data.role:
            return org
        if data.role is OrgRole.owner:
            raise Conflict(
                "Invite the member as owner; they become one when they accept.",
                code="OWNER_NEEDS_INVITATION",
            )
        # Pin the member by position and require another owner: one conditional update.
        i = next(n for n, m in enumerate(org.members) if m.user_id == target)
        result = await Organisation.get_motor_collection().update_one(
            {
                "_id": org.id,
                f"members.{i}.user_id": target,
                f"members.{i}.role": OrgRole.owner.value,
                **_another_owner(target),
            },
            {
                "$set": {f"members.{i}.role": data.role.value, "updated_at": utcnow()},
                "$inc": {"version": 1},
            },
        )
        if result.modified_count:
            await audit.record(
                principal,
                "member_role_change",
                ENTITY,
                org.id,
                {"member": str(target), "role": current.value},
                {"member": str(target), "role": data.role.value},
            )
            return await _reload(org.id)
        org = await _reload(org.id)
        if org.role_of(target) is OrgRole.owner and not any(
            m.role is OrgRole.owner and m.user_id != target for m in org.members
        ):
            raise _last_owner()
    raise Conflict("The organisation changed meanwhile; try again.", code="CONCURRENT_CHANGE")


async def join(org_id: PydanticObjectId, user_id: PydanticObjectId, role: OrgRole) -> bool:
    """Add a member (for an accepted invitation): one conditional update, so accepting twice
    at once adds them once. False if they are already a member or the organisation is gone."""
    member = Member(user_id=user_id, role=role, added_at=utcnow())
    result = await Organisation.get_motor_collection().update_one(
        {"_id": org_id, "archived": False, "members.user_id": {"$ne": user_id}},
        {
            "$push": {"members": member.model_dump()},
            "$set": {"updated_at": utcnow()},
            "$inc": {"version": 1},
        },
    )
    return bool(result.modified_count)


async def promote(org_id: PydanticObjectId, user_id: PydanticObjectId) -> bool:
    """An editor accepted an invitation as owner. False if they are no longer an editor."""
    result = await Organisation.get_motor_collection().update_one(
        {
            "_id": org_id,
            "archived": False,
            "members": {"$elemMatch": {"user_id": user_id, "role": OrgRole.editor.value}},
        },
        {
            "$set": {"members.$.role": OrgRole.owner.value, "updated_at": utcnow()},
            "$inc": {"version": 1},
        },
    )
    return bool(result.modified_count)
