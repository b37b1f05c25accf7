"""The caller's own account, user administration and the first admin."""

from __future__ import annotations

import re
import secrets
import sys
from dataclasses import dataclass
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app import email
from app.core.config import Settings
from app.core.exceptions import Conflict, NotFound, ValidationFailed
from app.core.pagination import SortSpec, paginate
from app.core.security import hash_password, verify_password
from app.models.base import utcnow
from app.models.user import Role, User
from app.schemas.user import AdminUserQuery, AdminUserUpdate, UserStatus, UserUpdateMe
from app.services import admin_roster, audit, auth, login_throttle, sessions
from app.services.access import object_id
from app.services.auth import Principal
from app.services.login_throttle import AccountState
from app.services.passwords import check_password

log = structlog.get_logger("app.users")

ENTITY = "user"

USER_SORTS = {
    "-created_at": SortSpec("-created_at", "created_at", -1),
    "created_at": SortSpec("created_at", "created_at", 1),
    "email": SortSpec("email", "email", 1, kind="str"),
}


async def _load(user_id: PydanticObjectId | str) -> User:
    oid = object_id(str(user_id), "USER_NOT_FOUND", "user")
    user = await User.get(oid)
    if user is None:
        raise NotFound("The user was not found.", code="USER_NOT_FOUND")
    return user


# --- me ---------------------------------------------------------------------------------------


ME_FIELDS = (
    "email",
    "full_name",
    "role",
    "is_active",
    "is_verified",
    "created_at",
    "last_login_at",
)


async def get_me(principal: Principal) -> dict[str, Any]:
    """The caller's account as stored, only the fields `UserRead` shows: one projected read
    and no document built (a single-page app asks for it on every start)."""
    found: dict[str, Any] | None = await User.get_motor_collection().find_one(
        {"_id": principal.id}, dict.fromkeys(ME_FIELDS, 1)
    )
    if found is None:
        raise NotFound("The user was not found.", code="USER_NOT_FOUND")
    return found


async def update_me(principal: Principal, data: UserUpdateMe) -> User:
    user = await _load(principal.id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if changes:
        await user.set({**changes, "updated_at": utcnow()})
    return user


async def change_password(
    settings: Settings, principal: Principal, current_password: str, new_password: str
) -> None:
    user = await _load(principal.id)
    if not await verify_password(settings, current_password, user.password_hash):
        raise ValidationFailed(
            "The current password is incorrect.",
            code="INVALID_CURRENT_PASSWORD",
            details=[
                {"loc": ["body", "current_password"], "msg": "incorrect", "type": "value_error"}
            ],
        )
    check_password(new_password, user.email)
    await user.set(
        {
            "password_hash": await hash_password(settings, new_password),
            "password_changed_at": utcnow(),
            "updated_at": utcnow(),
        }
    )
    revoked = await sessions.revoke_all(settings, user.id, "password_change", keep=principal.sid)  # type: ignore[arg-type]
    log.info("password_changed", user_id=str(user.id), other_sessions_revoked=revoked)
    from app.services import account_notices  # critical: always told, in-app and by e-mail

    await account_notices.security(principal.id, "password_changed")


# --- administration ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdminUserView:
    """A user as admins see it: the document plus its account-wide login throttling."""

    user: User
    login: AccountState


async def _views(users: list[User]) -> list[AdminUserView]:
    states = await login_throttle.account_states([u.email for u in users])
    return [AdminUserView(u, states.get(u.email, AccountState())) for u in users]


async def _view(user: User) -> AdminUserView:
    return (await _views([user]))[0]


async def admin_list(query: AdminUserQuery) -> tuple[list[AdminUserView], str | None, int | None]:
    filters: dict[str, Any] = {}
    status, q = query.status, query.q
    if query.role:
        filters["role"] = query.role.value
    if status is UserStatus.active:
        filters["is_active"] = True
    elif status is UserStatus.inactive:
        filters["is_active"] = False
    elif status is UserStatus.locked:
        filters["email"] = {"$in": await login_throttle.throttled_accounts()}
    if q:
        pattern = re.escape(q.strip())
        filters["$or"] = [
            {"email": {"$regex": pattern, "$options": "i"}},
            {"full_name": {"$regex": pattern, "$options": "i"}},
        ]
    users, cursor, total = await paginate(User, filters, USER_SORTS[query.sort], query.page)
    return await _views(users), cursor, total


async def admin_get(user_id: str) -> AdminUserView:
    return await _view(await _load(user_id))


def _is_active_admin(state: dict[str, Any]) -> bool:
    return bool(state["role"] == Role.admin.value and state["is_active"])


async def admin_update(
    settings: Settings, actor: Principal, user_id: str, data: AdminUserUpdate
) -> AdminUserView:
    """Role and active flag. Losing the last active admin is refused by the roster's one
    conditional update (see admin_roster); the change itself is conditional on the state
    read, so two admins editing one user at once cannot interleave."""
    user = await _load(user_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    before = {"role": user.role.value, "is_active": user.is_active}
    after = {
        "role": Role(changes.get("role", user.role)).value,
        "is_active": bool(changes.get("is_active", user.is_active)),
    }
    if after == before:
        return await _view(user)
    demoted = _is_active_admin(before) and not _is_active_admin(after)
    promoted = _is_active_admin(after) and not _is_active_admin(before)
    if demoted:
        await admin_roster.leave(user.id)  # type: ignore[arg-type]
    updated = await User.get_motor_collection().find_one_and_update(
        {"_id": user.id, **before},
        {"$set": {**after, "updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is None:
        # Changed meanwhile. A demoted admin stays out of the roster: a roster smaller than
        # the truth only refuses demotions (start-up rebuilds it), it never loses an admin.
        raise Conflict("The user was changed meanwhile; reload and retry.", code="USER_CHANGED")
    if promoted:
        await admin_roster.join(user.id)  # type: ignore[arg-type]
    # Tokens carry the role, and a deactivated user must be out at once.
    await sessions.revoke_all(settings, user.id, "admin_change")  # type: ignore[arg-type]
    await audit.record(actor, "update", ENTITY, user.id, before, after)
    log.info("user_updated_by_admin", actor_id=str(actor.id), user_id=str(user.id))
    return await _view(await _load(user.id))  # type: ignore[arg-type]


async def admin_unlock(actor: Principal, user_id: str) -> AdminUserView:
    """End every login back-off of the account (account-wide and per client)."""
    user = await _load(user_id)
    state = await login_throttle.clear(user.email)
    await audit.record(
        actor,
        "unlock",
        ENTITY,
        user.id,
        {"failed_logins": state.failures, "locked_until": state.blocked_until},
        {"failed_logins": 0, "locked_until": None},
    )
    log.info("user_unlocked", actor_id=str(actor.id), user_id=str(user.id))
    return await _view(user)


async def admin_force_password_reset(
    settings: Settings, actor: Principal, user_id: str
) -> AdminUserView:
    user = await _load(user_id)
    before = {"password_reset_required": user.password_reset_required}
    await user.set({"password_reset_required": True, "updated_at": utcnow()})
    await sessions.revoke_all(settings, user.id, "forced_password_reset")  # type: ignore[arg-type]
    await email.enqueue("password_reset", auth.send_password_reset, settings, str(user.id))
    await audit.record(
        actor, "force_password_reset", ENTITY, user.id, before, {"password_reset_required": True}
    )
    log.info("password_reset_forced", actor_id=str(actor.id), user_id=str(user.id))
    return await _view(user)


# --- bootstrap --------------------------------------------------------------------------------


async def create_user(
    settings: Settings, email: str, password: str, full_name: str, role: Role, *, check: bool = True
) -> User:
    email = email.strip().lower()
    if check:
        check_password(password, email)
    user = User(
        email=email,
        full_name=full_name,
        password_hash=await hash_password(settings, password),
        role=role,
        is_verified=True,
        password_changed_at=utcnow(),
    )
    await user.insert()
    if role is Role.admin:
        await admin_roster.join(user.id)  # type: ignore[arg-type]
    return user


async def ensure_first_admin(settings: Settings) -> User | None:
    """Create the first admin when none exists: from FIRST_ADMIN_* or, on the embedded
    backend with demo data on, a generated demo admin whose password is printed once.
    Rebuilds the admin roster (the last-admin guard) from the users first."""
    await admin_roster.sync()
    if await User.find(User.role == Role.admin).count():
        return None
    if settings.first_admin_email and settings.first_admin_password:
        user = await create_user(
            settings,
            settings.first_admin_email,
            settings.first_admin_password.get_secret_value(),
            "Administrator",
            Role.admin,
        )
        log.info("first_admin_created", user_id=str(user.id))
        return user
    if settings.embedded_database and settings.seed_demo_data:
        password = secrets.token_urlsafe(12)
        user = await create_user(
            settings, "admin@runwei.local", password, "Demo Admin", Role.admin, check=False
        )
        # Printed straight to the console, never through the log pipeline.
        print(  # noqa: T201
            "\n  RunWei demo admin (embedded database, shown once):\n"
            f"    email:    {user.email}\n    password: {password}\n",
            file=sys.stderr,
            flush=True,
        )
        return user
    return None
