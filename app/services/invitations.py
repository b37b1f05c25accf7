"""Organisation invitations: the only way to become a member of an organisation.

Owners invite an e-mail address with a role; the invitation is stored under the address, not
under an account, so inviting does exactly the same work and answers exactly the same way
whether or not an account uses that address (no lookup happens at all). The address gets an
e-mail either way; an account that later registers with it — and has confirmed it — sees the
invitation at `/me/invitations` and accepts or declines it there.

One pending invitation per (organisation, address) is a unique index on `slot`. Expiry is
decided here (`expires_at`), not only by the TTL index, which the embedded backend never
runs. Accepting is two atomic steps — claim the invitation (pending → accepted), then add or
promote the member with a conditional update — and is safe to repeat: a second acceptance
answers like the first, and one interrupted between its steps is completed by accepting again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app import email
from app.core.config import Settings
from app.core.exceptions import Conflict, Forbidden, NotFound, RateLimited
from app.core.pagination import SortSpec, paginate
from app.models.base import utcnow
from app.models.invitation import (
    Invitation,
    InvitationQuota,
    InvitationStatus,
    answered,
    pending_slot,
)
from app.models.organisation import Organisation, OrgRole
from app.models.user import User
from app.schemas.invitation import InvitationCreate, InvitationQuery
from app.schemas.query import PageQuery
from app.services import audit, memberships
from app.services import organisations as org_service
from app.services.access import object_id
from app.services.auth import Principal
from app.services.capabilities import Action

log = structlog.get_logger("app.invitations")

ENTITY = org_service.ENTITY  # audited on the organisation they concern
NEWEST = SortSpec("newest", "created_at", -1)
PENDING = InvitationStatus.pending.value


def _status_filter(status: InvitationStatus, now: datetime) -> dict[str, Any]:
    if status is InvitationStatus.pending:
        return {"status": PENDING, "expires_at": {"$gt": now}}
    if status is InvitationStatus.expired:
        return {
            "$or": [
                {"status": InvitationStatus.expired.value},
                {"status": PENDING, "expires_at": {"$lte": now}},
            ]
        }
    return {"status": status.value}


def _not_found() -> NotFound:
    return NotFound("The invitation was not found.", code="INVITATION_NOT_FOUND")


def _not_pending(inv: Invitation) -> Conflict:
    status = inv.effective_status()
    if status is InvitationStatus.expired:
        return Conflict("The invitation has expired.", code="INVITATION_EXPIRED")
    return Conflict(
        f"The invitation is already {status.value}.",
        code="INVITATION_NOT_PENDING",
        details=[{"status": status.value}],
    )


async def _leave_pending(inv: Invitation, status: InvitationStatus, **fields: Any) -> bool:
    """pending → `status`, atomically, only if still pending and unexpired at this instant."""
    now = utcnow()
    result = await Invitation.get_motor_collection().update_one(
        {"_id": inv.id, "status": PENDING, "expires_at": {"$gt": now}},
        {"$set": {**answered(inv.id, status, now), **fields}},
    )
    return bool(result.modified_count)


async def _reload(inv: Invitation) -> Invitation:
    fresh = await Invitation.get(inv.id)
    if fresh is None:
        raise _not_found()
    return fresh


# --- owners -----------------------------------------------------------------------------------


async def invite(
    settings: Settings, principal: Principal, key: str, data: InvitationCreate
) -> Invitation:
    org = await org_service.get_for(principal, key, Action.member_invite)
    if org.archived:
        raise Conflict("Restore the organisation before inviting.", code="ORGANISATION_ARCHIVED")
    assert org.id is not None  # noqa: S101
    now = utcnow()
    address = data.email
    await _free_expired_slot(org.id, address, now)
    invitation_id = PydanticObjectId()
    await _take_quota(settings, org.id, invitation_id, now)
    inv = Invitation(
        id=invitation_id,
        organisation_id=org.id,
        organisation_name=org.name,
        organisation_slug=org.slug,
        email=address,
        role=data.role,
        slot=pending_slot(org.id, address),
        invited_by=principal.id,
        expires_at=now + timedelta(days=settings.invitation_days),
    )
    try:
        await inv.insert()
    except DuplicateKeyError as exc:
        await _give_back_quota(org.id, invitation_id)
        raise Conflict(
            "This address already has a pending invitation to this organisation.",
            code="INVITATION_PENDING",
        ) from exc
    name = " ".join(org.name.split())  # no line breaks into a mail header
    await email.enqueue(
        "organisation_invitation",
        email.send,
        settings,
        address,
        f"You are invited to join {name} on RunWei",
        "organisation_invitation",
        organisation_name=name,
        role=data.role.value,
        link=f"{settings.frontend_url}/invitations",
        days=settings.invitation_days,
    )
    from app.tasks import alerts  # a confirmed account also sees it in-app (worker: no lookup here)

    await alerts.enqueue(alerts.invitation, invitation_id=str(inv.id))
    await audit.record(
        principal,
        "invitation_create",
        ENTITY,
        org.id,
        None,
        {"invitation_id": str(inv.id), "email": address, "role": data.role.value},
    )
    log.info("invitation_created", invitation_id=str(inv.id), organisation_id=str(org.id))
    return inv


async def _free_expired_slot(org_id: PydanticObjectId, address: str, now: datetime) -> None:
    """An expired pending invitation no longer holds the (organisation, address) slot."""
    stale = await Invitation.get_motor_collection().find_one(
        {"slot": pending_slot(org_id, address), "expires_at": {"$lte": now}}, {"_id": 1}
    )
    if stale is not None:
        await Invitation.get_motor_collection().update_one(
            {"_id": stale["_id"], "status": PENDING, "expires_at": {"$lte": now}},
            {"$set": answered(stale["_id"], InvitationStatus.expired, now)},
        )


async def _take_quota(
    settings: Settings, org_id: PydanticObjectId, invitation_id: PydanticObjectId, now: datetime
) -> None:
    """Invitations send e-mail to any address: one organisation sends at most the quota in
    24 hours. One conditional update takes a place (`sent.<quota-1>` must not exist yet),
    so concurrent invitations cannot all pass a count made before any of them is stored."""
    quota = settings.invitations_per_organisation_per_day
    collection = InvitationQuota.get_motor_collection()
    await collection.update_one(
        {"_id": org_id}, {"$pull": {"sent": {"at": {"$lte": now - timedelta(days=1)}}}}
    )
    try:
        await collection.update_one(
            {"_id": org_id, f"sent.{quota - 1}": {"$exists": False}},
            {"$push": {"sent": {"at": now, "invitation_id": invitation_id}}},
            upsert=True,
        )
    except DuplicateKeyError:  # the document exists and is full
        raise RateLimited(
            "This organisation has sent its invitations for today; try again tomorrow.",
            code="INVITATION_LIMIT",
            headers={"Retry-After": str(24 * 3600)},
        ) from None


async def _give_back_quota(org_id: PydanticObjectId, invitation_id: PydanticObjectId) -> None:
    """An invitation refused after taking its place (already pending) sends no e-mail."""
    await InvitationQuota.get_motor_collection().update_one(
        {"_id": org_id}, {"$pull": {"sent": {"invitation_id": invitation_id}}}
    )


async def list_for_organisation(
    principal: Principal, key: str, query: InvitationQuery
) -> tuple[list[Invitation], str | None, int | None]:
    org = await org_service.get_for(principal, key, Action.invitation_list)
    filters = {"organisation_id": org.id, **_status_filter(query.status, utcnow())}
    return await paginate(Invitation, filters, NEWEST, query.page)


async def _of_organisation(org: Organisation, invitation_id: str) -> Invitation:
    inv = await Invitation.get(object_id(invitation_id, "INVITATION_NOT_FOUND", "invitation"))
    if inv is None or inv.organisation_id != org.id:
        raise _not_found()
    return inv


async def get_for_organisation(principal: Principal, key: str, invitation_id: str) -> Invitation:
    org = await org_service.get_for(principal, key, Action.invitation_list)
    return await _of_organisation(org, invitation_id)


async def revoke(principal: Principal, key: str, invitation_id: str) -> Invitation:
    """Withdraw a pending (or expired) invitation; revoking twice is harmless."""
    org = await org_service.get_for(principal, key, Action.invitation_revoke)
    inv = await _of_organisation(org, invitation_id)
    if inv.status is InvitationStatus.pending:
        result = await Invitation.get_motor_collection().update_one(
            {"_id": inv.id, "status": PENDING},
            {"$set": answered(inv.id, InvitationStatus.revoked, utcnow())},
        )
        if result.modified_count:
            await audit.record(
                principal,
                "invitation_revoke",
                ENTITY,
                org.id,
                {"invitation_id": str(inv.id), "email": inv.email, "status": PENDING},
                {"invitation_id": str(inv.id), "email": inv.email, "status": "revoked"},
            )
            return await _reload(inv)
        inv = await _reload(inv)
    if inv.status is InvitationStatus.revoked:
        return inv
    raise _not_pending(inv)


# --- the invited person -----------------------------------------------------------------------


async def _invitee(principal: Principal) -> User:
    """Invitations belong to an address: only an account that proved it owns the address
    (confirmed it) may see or answer them, or anyone could claim one by signing up with it."""
    user = await User.get(principal.id)
    if user is None or not user.is_active:
        raise _not_found()
    if not user.is_verified:
        raise Forbidden(
            "Confirm your e-mail address to see and answer invitations.",
            code="EMAIL_NOT_VERIFIED",
        )
    return user


async def _mine(user: User, invitation_id: str) -> Invitation:
    inv = await Invitation.get(object_id(invitation_id, "INVITATION_NOT_FOUND", "invitation"))
    if inv is None or inv.email != user.email:
        raise _not_found()
    return inv


async def list_mine(
    principal: Principal, query: PageQuery
) -> tuple[list[Invitation], str | None, int | None]:
    page = query.page
    """Pending, unexpired invitations to the caller's (confirmed) address."""
    user = await _invitee(principal)
    filters = {"email": user.email, **_status_filter(InvitationStatus.pending, utcnow())}
    return await paginate(Invitation, filters, NEWEST, page)


async def accept(principal: Principal, invitation_id: str) -> Invitation:
    user = await _invitee(principal)
    assert user.id is not None  # noqa: S101
    inv = await _mine(user, invitation_id)
    if inv.status is InvitationStatus.pending:
        if inv.effective_status() is InvitationStatus.expired:
            raise _not_pending(inv)
        org = await Organisation.get(inv.organisation_id)
        if org is None or org.archived:
            raise Conflict("The organisation is archived.", code="ORGANISATION_ARCHIVED")
        current = org.role_of(user.id)
        if current is OrgRole.owner or current is inv.role:
            # Already a member with (at least) this role: a clean 409, nothing changes.
            raise Conflict("You are already a member of this organisation.", code="ALREADY_MEMBER")
        await _leave_pending(inv, InvitationStatus.accepted, accepted_by=user.id)
        inv = await _reload(inv)  # ours now — or answered, revoked or expired meanwhile
    if inv.status is not InvitationStatus.accepted or inv.accepted_by != user.id:
        raise _not_pending(inv)
    if inv.member_added_at is None:
        await _add_member(principal, inv, user)
        inv = await _reload(inv)
    return inv


async def _add_member(principal: Principal, inv: Invitation, user: User) -> None:
    """Second step of an acceptance; also completes one that was interrupted, and converges
    when the same acceptance runs twice at once (only the one whose update lands audits)."""
    assert user.id is not None  # noqa: S101
    org = await Organisation.get(inv.organisation_id)
    current = org.role_of(user.id) if org else None
    changed = False
    if current is None:
        changed = await memberships.join(inv.organisation_id, user.id, inv.role)
    elif current is OrgRole.editor and inv.role is OrgRole.owner:
        changed = await memberships.promote(inv.organisation_id, user.id)
    if not changed:
        org = await Organisation.get(inv.organisation_id)
        now_role = org.role_of(user.id) if org and not org.archived else None
        if not (now_role is inv.role or now_role is OrgRole.owner):
            await _undo_claim(inv)
            raise Conflict(
                "The organisation or your membership changed meanwhile; nothing was done.",
                code="CONCURRENT_CHANGE",
            )
    await Invitation.get_motor_collection().update_one(
        {"_id": inv.id, "member_added_at": None}, {"$set": {"member_added_at": utcnow()}}
    )
    if changed:
        await audit.record(
            principal,
            "member_add" if current is None else "member_role_change",
            ENTITY,
            inv.organisation_id,
            {"member": str(user.id), "role": current.value} if current else None,
            {"member": str(user.id), "role": inv.role.value, "invitation_id": str(inv.id)},
        )
        log.info("invitation_accepted", invitation_id=str(inv.id), user_id=str(user.id))


async def _undo_claim(inv: Invitation) -> None:
    """Put a claimed invitation back to pending (or revoked, if a new one took its slot)."""
    collection = Invitation.get_motor_collection()
    claimed = {"_id": inv.id, "status": InvitationStatus.accepted.value, "member_added_at": None}
    restore = {
        "status": PENDING,
        "slot": pending_slot(inv.organisation_id, inv.email),
        "accepted_by": None,
        "responded_at": None,
    }
    try:
        await collection.update_one(claimed, {"$set": restore})
    except DuplicateKeyError:
        await collection.update_one(claimed, {"$set": {"status": InvitationStatus.revoked.value}})


async def decline(principal: Principal, invitation_id: str) -> Invitation:
    """Declining twice is harmless; an accepted, revoked or expired one is a 409."""
    user = await _invitee(principal)
    inv = await _mine(user, invitation_id)
    if inv.status is InvitationStatus.pending:
        if await _leave_pending(inv, InvitationStatus.declined):
            await audit.record(
                principal,
                "invitation_decline",
                ENTITY,
                inv.organisation_id,
                {"invitation_id": str(inv.id), "status": PENDING},
                {"invitation_id": str(inv.id), "status": "declined"},
            )
            return await _reload(inv)
        inv = await _reload(inv)
    if inv.status is InvitationStatus.declined:
        return inv
    raise _not_pending(inv)
