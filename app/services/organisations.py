"""Organisations: public reads, member-managed edits, membership, archive (all audited)."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.pagination import PageParams, SortSpec, paginate
from app.models.base import utcnow
from app.models.organisation import Member, Organisation, OrganisationType, OrgRole
from app.models.user import User
from app.schemas.organisation import MemberAdd, OrganisationCreate, OrganisationUpdate
from app.services import audit, catalogue, events, opportunities
from app.services.access import by_id_or_slug, is_admin, is_staff
from app.services.auth import Principal
from app.services.versioning import check_version, save_versioned
from app.utils.text import sanitize_html, slugify, strip_html, token_set, tokens

ENTITY = "organisation"
SORTS = {
    "name": SortSpec("name", "name", 1, kind="str"),
    "newest": SortSpec("newest", "created_at", -1),
}


def _not_found() -> NotFound:
    return NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")


def _tokens(org: Organisation) -> list[str]:
    return token_set([org.name, strip_html(org.description), org.slug.replace("-", " ")])


def can_manage(principal: Principal | None, org: Organisation) -> bool:
    return is_staff(principal) or (principal is not None and org.role_of(principal.id) is not None)


def is_owner(principal: Principal | None, org: Organisation) -> bool:
    return is_staff(principal) or (
        principal is not None and org.role_of(principal.id) is OrgRole.owner
    )


async def get(principal: Principal | None, key: str) -> Organisation:
    org = await by_id_or_slug(Organisation, key)
    if org is None or (org.archived and not can_manage(principal, org)):
        raise _not_found()
    return org


async def _managed(principal: Principal, key: str, *, owner: bool = False) -> Organisation:
    org = await get(principal, key)
    allowed = is_owner(principal, org) if owner else can_manage(principal, org)
    if not allowed:
        raise Forbidden(
            "Only the organisation's owners can do this."
            if owner
            else "Only members of the organisation can do this.",
            code="NOT_ORGANISATION_OWNER" if owner else "NOT_ORGANISATION_MEMBER",
        )
    return org


async def list_organisations(
    principal: Principal | None,
    *,
    type_: OrganisationType | None,
    country: str | None,
    q: str | None,
    mine: bool,
    sort: str,
    page: PageParams,
) -> tuple[list[Organisation], str | None, int | None]:
    if sort not in SORTS:
        raise ValidationFailed(
            "Unknown sort.",
            code="INVALID_SORT",
            details=[{"loc": ["query", "sort"], "msg": f"one of {sorted(SORTS)}"}],
        )
    filters: dict[str, Any] = {"archived": False}
    if type_:
        filters["type"] = type_.value
    if country:
        filters["country"] = country
    if q:
        words = tokens(q)
        if not words:
            raise ValidationFailed("The search text has no searchable words.", code="INVALID_QUERY")
        filters["search_tokens"] = {"$all": words}
    if mine:
        if principal is None:
            return [], None, 0 if page.include_total else None
        filters["members.user_id"] = principal.id
    return await paginate(Organisation, filters, SORTS[sort], page)


async def create(principal: Principal, data: OrganisationCreate) -> Organisation:
    now = utcnow()
    org = Organisation(
        name=data.name,
        slug=data.slug or slugify(data.name),
        type=data.type,
        description=sanitize_html(data.description),
        website=data.website,
        country=data.country,
        members=[Member(user_id=principal.id, role=OrgRole.owner, added_at=now)],
    )
    org.search_tokens = _tokens(org)
    try:
        await org.insert()
    except DuplicateKeyError as exc:
        raise Conflict("This organisation slug is already taken.", code="SLUG_TAKEN") from exc
    await audit.record(principal, "create", ENTITY, org.id, None, org.model_dump())
    return org


async def update(
    principal: Principal, key: str, data: OrganisationUpdate, expected_version: int | None
) -> Organisation:
    org = await _managed(principal, key)
    check_version(org, expected_version, ENTITY)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return org
    if "description" in changes and changes["description"] is not None:
        changes["description"] = sanitize_html(changes["description"])
    before = org.model_dump()
    changes["search_tokens"] = _tokens(org.model_copy(update=changes))
    fresh = await save_versioned(org, changes, expected_version, ENTITY)
    if fresh.name != org.name:
        await catalogue.refresh_organisation(opportunities.KIND, fresh)
        await catalogue.refresh_organisation(events.KIND, fresh)
    await audit.record(principal, "update", ENTITY, org.id, before, fresh.model_dump())
    return fresh


async def set_archived(principal: Principal, key: str, archived: bool) -> Organisation:
    if not archived and not is_staff(principal):
        raise Forbidden("Only staff can restore an organisation.", code="STAFF_ONLY")
    org = await _managed(principal, key, owner=True)
    if org.archived == archived:
        return org
    await org.set({"archived": archived, "updated_at": utcnow(), "version": org.version + 1})
    await audit.record(
        principal,
        "archive" if archived else "restore",
        ENTITY,
        org.id,
        {"archived": not archived},
        {"archived": archived},
    )
    who = catalogue.Viewer(principal, {org.id})  # type: ignore[arg-type]
    for kind in (opportunities.KIND, events.KIND):
        await catalogue.cascade_archive(kind, who, org.id, archived)  # type: ignore[arg-type]
    return org


async def add_member(principal: Principal, key: str, data: MemberAdd) -> Organisation:
    org = await _managed(principal, key, owner=True)
    user = await User.find_one(User.email == data.email.lower())
    if user is None or not user.is_active:
        raise NotFound("No active user has this e-mail address.", code="USER_NOT_FOUND")
    if org.role_of(user.id) is not None:  # type: ignore[arg-type]
        raise Conflict("This user is already a member.", code="ALREADY_MEMBER")
    member = Member(user_id=user.id, role=data.role, added_at=utcnow())
    result = await Organisation.get_motor_collection().update_one(
        {"_id": org.id, "members.user_id": {"$ne": user.id}},
        {
            "$push": {"members": member.model_dump()},
            "$inc": {"version": 1},
            "$set": {"updated_at": utcnow()},
        },
    )
    if result.modified_count == 0:
        raise Conflict("This user is already a member.", code="ALREADY_MEMBER")
    await audit.record(
        principal,
        "member_add",
        ENTITY,
        org.id,
        None,
        {"member": str(user.id), "role": data.role.value},
    )
    fresh = await Organisation.get(org.id)
    assert fresh is not None  # noqa: S101
    return fresh


async def remove_member(principal: Principal, key: str, user_id: str) -> Organisation:
    org = await get(principal, key)
    target = PydanticObjectId(user_id) if PydanticObjectId.is_valid(user_id) else None
    leaving_self = target is not None and target == principal.id
    if not leaving_self and not is_owner(principal, org):
        raise Forbidden(
            "Only the organisation's owners can do this.", code="NOT_ORGANISATION_OWNER"
        )
    role = org.role_of(target) if target else None
    if role is None:
        raise NotFound("This user is not a member.", code="MEMBER_NOT_FOUND")
    owners = [m for m in org.members if m.role is OrgRole.owner]
    if role is OrgRole.owner and len(owners) <= 1:
        raise Conflict("An organisation keeps at least one owner.", code="LAST_OWNER")
    await Organisation.get_motor_collection().update_one(
        {"_id": org.id},
        {
            "$pull": {"members": {"user_id": target}},
            "$inc": {"version": 1},
            "$set": {"updated_at": utcnow()},
        },
    )
    await audit.record(
        principal,
        "member_remove",
        ENTITY,
        org.id,
        {"member": str(target), "role": role.value},
        None,
    )
    fresh = await Organisation.get(org.id)
    assert fresh is not None  # noqa: S101
    return fresh


def shows_members(principal: Principal | None, org: Organisation) -> bool:
    return is_admin(principal) or can_manage(principal, org)
