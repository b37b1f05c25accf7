"""Login sessions and token revocation (the denylist).

Revoking a session denylists `sid:<id>`, so every access and refresh token of that login
dies at once; authenticating a request is one indexed `_id $in [jti, sid]` lookup.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.core.security import TokenClaims, TokenType, create_token, new_token_id
from app.models.auth import AuthSession, RevokedToken
from app.models.base import utcnow
from app.models.user import User
from app.schemas.auth import TokenPair

log = structlog.get_logger("app.sessions")


def session_key(sid: str) -> str:
    return f"sid:{sid}"


async def deny(settings: Settings, key: str, ttl_seconds: int | None = None) -> None:
    """Denylist a jti or a session key until no token it covers can still be valid."""
    expires = utcnow() + timedelta(seconds=ttl_seconds or settings.refresh_token_days * 86400)
    with contextlib.suppress(DuplicateKeyError):  # already revoked: idempotent
        await RevokedToken(id=key, expires_at=expires).insert()


async def is_revoked(jti: str, sid: str) -> bool:
    """One indexed lookup covering the token itself and its whole session."""
    hit = await RevokedToken.get_motor_collection().find_one(
        {"_id": {"$in": [jti, session_key(sid)]}}, projection={"_id": 1}
    )
    return hit is not None


def issue_pair(
    settings: Settings, user: User, sid: str, refresh_jti: str
) -> tuple[TokenPair, TokenClaims]:
    access, access_claims = create_token(
        settings,
        subject=str(user.id),
        role=user.role.value,
        token_type=TokenType.access,
        session_id=sid,
    )
    refresh, _ = create_token(
        settings,
        subject=str(user.id),
        role=user.role.value,
        token_type=TokenType.refresh,
        session_id=sid,
        jti=refresh_jti,
    )
    pair = TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
    )
    return pair, access_claims


async def start(settings: Settings, user: User) -> TokenPair:
    assert user.id is not None  # noqa: S101
    sid, refresh_jti = new_token_id(), new_token_id()
    await AuthSession(
        id=sid,
        user_id=user.id,
        refresh_jti=refresh_jti,
        expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
    ).insert()
    pair, _ = issue_pair(settings, user, sid, refresh_jti)
    return pair


@dataclass(frozen=True, slots=True)
class Rotation:
    """The refresh jti to issue, and whether it is a sibling of a concurrent rotation."""

    jti: str
    sibling: bool = False


async def rotate(settings: Settings, sid: str, presented_jti: str) -> Rotation | None:
    """Atomically swap the session's current refresh jti for a new one.

    Within REFRESH_REUSE_GRACE_SECONDS of a rotation, presenting the token it retired (two
    tabs, or a double-firing effect, refreshing with the same token at once) returns the
    jti that rotation issued: the late caller gets a sibling pair of the same session
    instead of ending it. None when the token is neither current nor just retired: a
    replay, which the caller treats as theft and answers by revoking the whole session.
    """
    new_jti = new_token_id()
    now = utcnow()
    collection = AuthSession.get_motor_collection()
    updated = await collection.find_one_and_update(
        {"_id": sid, "refresh_jti": presented_jti, "revoked": False, "expires_at": {"$gt": now}},
        {
            "$set": {
                "refresh_jti": new_jti,
                "previous_jti": presented_jti,
                "rotated_at": now,
                "expires_at": now + timedelta(days=settings.refresh_token_days),
            }
        },
    )
    if updated is not None:
        return Rotation(new_jti)
    grace = settings.refresh_reuse_grace_seconds
    if grace <= 0:
        return None
    sibling = await collection.find_one(
        {
            "_id": sid,
            "previous_jti": presented_jti,
            "rotated_at": {"$gt": now - timedelta(seconds=grace)},
            "revoked": False,
            "expires_at": {"$gt": now},
        },
        {"refresh_jti": 1},
    )
    if sibling is None:
        return None
    log.info("refresh_token_grace", session_id=sid)
    return Rotation(str(sibling["refresh_jti"]), sibling=True)


async def revoke(settings: Settings, sid: str, reason: str) -> None:
    await AuthSession.get_motor_collection().update_one({"_id": sid}, {"$set": {"revoked": True}})
    await deny(settings, session_key(sid))
    log.info("session_revoked", session_id=sid, reason=reason)


async def revoke_all(
    settings: Settings, user_id: PydanticObjectId, reason: str, *, keep: str | None = None
) -> int:
    """Revoke every live session of a user, except `keep` (the caller's own, if given)."""
    query: dict[str, object] = {"user_id": user_id, "revoked": False}
    if keep:
        query["_id"] = {"$ne": keep}
    sids = [doc["_id"] async for doc in AuthSession.get_motor_collection().find(query, {"_id": 1})]
    for sid in sids:
        await revoke(settings, sid, reason)
    return len(sids)


async def session_exists(sid: str) -> bool:
    return await AuthSession.get_motor_collection().find_one({"_id": sid}, {"_id": 1}) is not None
