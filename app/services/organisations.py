"""Organisations: public reads, edits, archive and membership (all audited).

Who may do what is `capabilities.TABLE`'s answer. Members join only by accepting an
invitation (`services/invitations.py`); member changes live in `services/memberships.py`.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import Conflict, NotFound
from app.core.pagination import SortSpec, paginate
from app.models.base import utcnow
from app.models.invitation import Invitation, InvitationStatus, answered
from app.models.organisation import Member, Organisation, OrgRole
from app.schemas.organisation import OrganisationCreate, OrganisationQuery, OrganisationUpdate
from app.services import audit, capabilities, catalogue, events, opportunities
from app.services.access import by_id_or_slug
from app.services.auth import Principal
from app.services.capabilities import Action
from app.services.catalogue import Viewer
from app.services.versioning import check_version, save_versioned
from app.utils.text import sanitize_html, slugify, strip_html, token_set, tokens

ENTITY = "organisation"
SORTS = {
    "name": SortSpec("name", "name", 1, kind="str"),
    "newest": SortSpec("newest", "created_at", -1),
}


def _not_found() -> NotFound:
    return NotFound("The organisation was not found.", code="ORGANISATION_NOT_FOUND")


def derive(org: Organisation) -> dict[str, Any]:
    """Fields computed from the others (search tokens), for the service and the seed data."""
    words = [org.name, strip_html(org.description), org.slug.replace("-", " ")]
    return {"search_tokens": token_set(words)}


def role_in(principal: Principal | None, org: Organisation) -> OrgRole | None:
    return org.role_of(principal.id) if principal is not None else None


def allows(principal: Principal | None, org: Organisation, action: Action) -> bool:
    return capabilities.allows(principal, role_in(principal, org), action)


def shows_members(principal: Principal | None, org: Organisation) -> bool:
    return allows(principal, org, Action.org_view_internal)


can_manage = shows_members  # the name other modules knew: sees the organisation's internals


async def get(principal: Principal | None, key: str) -> Organisation:
    """Public unless archived; an archived one only for those who see its internals."""
    org = await by_id_or_slug(Organisation, key)
    if org is None or (org.archived and not allows(principal, org, Action.org_view_internal)):
        raise _not_found()
    return org


async def get_for(principal: Principal, key: str, action: Action) -> Organisation:
    """The organisation, if the caller may do `action` to it (404 if they cannot see it)."""
    org = await get(principal, key)
    capabilities.require(principal, role_in(principal, org), action)
    return org


async def list_organisations(
    principal: Principal | None, query: OrganisationQuery
) -> tuple[list[Organisation], str | None, int | None]:
    filters: dict[str, Any] = {"archived": False}
    if query.type:
        filters["type"] = query.type.value
    if query.country:
        filters["country"] = query.country
    if query.q:
        filters["search_tokens"] = {"$all": tokens(query.q)}  # the query model checked it
    if query.mine:
        if principal is None:
            return [], None, 0 if query.include_total else None
        filters["members.user_id"] = principal.id
    return await paginate(Organisation, filters, SORTS[query.sort], query.page)


async def create(principal: Principal, data: OrganisationCreate) -> Organisation:
    capabilities.require(principal, None, Action.org_create)
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
    org = org.model_copy(update=derive(org))
    try:
        await org.insert()
    except DuplicateKeyError as exc:
        raise Conflict("This organisation slug is already taken.", code="SLUG_TAKEN") from exc
    await audit.record(principal, "create", ENTITY, org.id, None, org.model_dump())
    return org


async def update(
    principal: Principal, key: str, data: OrganisationUpdate, expected_version: int | None
) -> Organisation:
    org = await get_for(principal, key, Action.org_edit)
    check_version(org, expected_version, ENTITY)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return org
    if "description" in changes and changes["description"] is not None:
        changes["description"] = sanitize_html(changes["description"])
    before = org.model_dump()
    changes.update(derive(org.model_copy(update=changes)))
    fresh = await save_versioned(org, changes, expected_version, ENTITY)
    if fresh.name != org.name:
        await catalogue.refresh_organisation(opportunities.KIND, fresh)
        await catalogue.refresh_organisation(events.KIND, fresh)
    await audit.record(principal, "update", ENTITY, org.id, before, fresh.model_dump())
    return fresh


async def set_archived(principal: Principal, key: str, archived: bool) -> Organisation:
    org = await get_for(principal, key, Action.org_archive if archived else Action.org_restore)
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
    assert org.id is not None  # noqa: S101
    role = role_in(principal, org)
    who = Viewer(principal, {org.id: role} if role else {})
    for kind in (opportunities.KIND, events.KIND):
        await catalogue.cascade_archive(kind, who, org.id, archived)
    if archived:
        await _revoke_pending_invitations(org.id)
    return org


async def _revoke_pending_invitations(organisation_id: PydanticObjectId) -> None:
    """An archived organisation takes no new members (restoring it does not revive these)."""
    collection = Invitation.get_motor_collection()
    pending = collection.find(
        {"organisation_id": organisation_id, "status": InvitationStatus.pending.value}, {"_id": 1}
    )
    async for doc in pending:
        await collection.update_one(
            {"_id": doc["_id"], "status": InvitationStatus.pending.value},
            {"$set": answered(doc["_id"], InvitationStatus.revoked, utcnow())},
        )
