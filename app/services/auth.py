"""Registration, login, refresh, logout, e-mail verification and password reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.core.exceptions import AppError, Conflict, Forbidden, Unauthorized, ValidationFailed
from app.core.ratelimit import hit_account_limit
from app.core.security import (
    InvalidToken,
    TokenClaims,
    TokenType,
    decode_token,
    hash_password,
    hash_secret,
    random_secret,
    verify_password,
)
from app.models.auth import OneTimeToken, TokenPurpose
from app.models.base import utcnow
from app.models.user import Role, User
from app.schemas.auth import TokenPair
from app.schemas.user import UserCreate
from app.services import email, sessions
from app.services.passwords import check_password

log = structlog.get_logger("app.auth")


class AccountLocked(AppError):
    status_code = 403
    code = "ACCOUNT_LOCKED"
    message = "Too many failed logins; the account is temporarily locked."


def invalid_credentials() -> Unauthorized:
    return Unauthorized("E-mail or password is incorrect.", code="INVALID_CREDENTIALS")


def invalid_token(message: str = "The token is invalid or expired.") -> Unauthorized:
    return Unauthorized(message, code="INVALID_TOKEN")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proven by a valid, unrevoked access token."""

    id: PydanticObjectId
    role: Role
    jti: str
    sid: str
    exp: datetime

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- access tokens ----------------------------------------------------------------------------


async def authenticate(settings: Settings, token: str) -> Principal:
    try:
        claims = decode_token(settings, token, TokenType.access)
        user_id = PydanticObjectId(claims.sub)
        role = Role(claims.role)
    except (InvalidToken, ValueError) as exc:
        raise invalid_token() from exc
    if await sessions.is_revoked(claims.jti, claims.sid):
        raise invalid_token("The token has been revoked.")
    return Principal(id=user_id, role=role, jti=claims.jti, sid=claims.sid, exp=claims.exp)


# --- registration -----------------------------------------------------------------------------


async def register(settings: Settings, data: UserCreate) -> User:
    check_password(data.password, data.email)
    user = User(
        email=data.email,
        full_name=data.full_name,
        password_hash=await hash_password(settings, data.password),
        password_changed_at=utcnow(),
    )
    try:
        await user.insert()
    except DuplicateKeyError as exc:
        raise Conflict("An account with this e-mail already exists.", code="EMAIL_TAKEN") from exc
    log.info("user_registered", user_id=str(user.id))
    await _send_verification(settings, user)
    return user


# --- login ------------------------------------------------------------------------------------


async def _record_failure(settings: Settings, user: User) -> datetime | None:
    """Count a failed login atomically; lock the account when the count reaches the limit."""
    collection = User.get_motor_collection()
    doc = await collection.find_one_and_update(
        {"_id": user.id},
        {"$inc": {"failed_logins": 1}},
        return_document=ReturnDocument.AFTER,
        projection={"failed_logins": 1},
    )
    if doc and doc["failed_logins"] >= settings.login_max_failures:
        until = utcnow() + timedelta(minutes=settings.lockout_minutes)
        await collection.update_one(
            {"_id": user.id, "failed_logins": {"$gte": settings.login_max_failures}},
            {"$set": {"locked_until": until, "failed_logins": 0}},
        )
        log.warning("account_locked", user_id=str(user.id), until=until.isoformat())
        return until
    return None


def _locked(until: datetime) -> AccountLocked:
    return AccountLocked(
        f"Too many failed logins; try again after {until.isoformat()}.",
        details=[{"unlock_at": until.isoformat()}],
    )


async def login(settings: Settings, email_address: str, password: str) -> TokenPair:
    email_address = email_address.strip().lower()
    hit_account_limit(settings, "login_account", email_address)
    user = await User.find_one(User.email == email_address)
    # Always run one hash verification so unknown e-mails cost the same time as wrong passwords.
    ok = await verify_password(settings, password, user.password_hash if user else None)
    if user is None:
        raise invalid_credentials()
    now = utcnow()
    if user.locked_until and _as_utc(user.locked_until) > now:
        raise _locked(_as_utc(user.locked_until))
    if not ok:
        until = await _record_failure(settings, user)
        if until:
            raise _locked(until)
        raise invalid_credentials()
    if not user.is_active:
        raise Forbidden("This account is deactivated.", code="ACCOUNT_DISABLED")
    if user.password_reset_required:
        raise Forbidden(
            "A password reset is required; use forgot-password.", code="PASSWORD_RESET_REQUIRED"
        )
    await User.get_motor_collection().update_one(
        {"_id": user.id},
        {"$set": {"failed_logins": 0, "locked_until": None, "last_login_at": now}},
    )
    log.info("user_logged_in", user_id=str(user.id))
    return await sessions.start(settings, user)


# --- refresh / logout -------------------------------------------------------------------------


def _decode_refresh(settings: Settings, token: str) -> TokenClaims:
    try:
        return decode_token(settings, token, TokenType.refresh)
    except InvalidToken as exc:
        raise invalid_token() from exc


async def refresh(settings: Settings, token: str) -> TokenPair:
    claims = _decode_refresh(settings, token)
    if await sessions.is_revoked(claims.jti, claims.sid):
        raise invalid_token("The token has been revoked.")
    new_jti, ok = await sessions.rotate(settings, claims.sid, claims.jti)
    if not ok:
        if await sessions.session_exists(claims.sid):
            # A rotated refresh token came back: assume it was stolen; end the whole session.
            await sessions.revoke(settings, claims.sid, reason="refresh_token_reuse")
            log.warning("refresh_token_reuse", user_id=claims.sub, session_id=claims.sid)
        raise invalid_token("The refresh token is no longer valid.")
    user = await User.get(PydanticObjectId(claims.sub))
    if user is None or not user.is_active:
        await sessions.revoke(settings, claims.sid, reason="user_inactive")
        raise invalid_token()
    pair, _ = sessions.issue_pair(settings, user, claims.sid, new_jti)
    return pair


async def logout(settings: Settings, principal: Principal, refresh_token: str | None) -> None:
    ttl = max(1, int((principal.exp - utcnow()).total_seconds()) + 1)
    await sessions.deny(settings, principal.jti, ttl)
    await sessions.revoke(settings, principal.sid, reason="logout")
    if refresh_token:
        claims = _decode_refresh(settings, refresh_token)
        if claims.sub != str(principal.id):
            raise invalid_token()
        await sessions.deny(settings, claims.jti)
        if claims.sid != principal.sid:
            await sessions.revoke(settings, claims.sid, reason="logout")
    log.info("user_logged_out", user_id=str(principal.id))


# --- single-use e-mail tokens -----------------------------------------------------------------


async def _issue_one_time(user: User, purpose: TokenPurpose, lifetime: timedelta) -> str:
    assert user.id is not None  # noqa: S101
    # Only the newest token of a purpose stays usable.
    await OneTimeToken.get_motor_collection().update_many(
        {"user_id": user.id, "purpose": purpose.value, "used_at": None},
        {"$set": {"used_at": utcnow()}},
    )
    secret = random_secret()
    await OneTimeToken(
        token_hash=hash_secret(secret),
        purpose=purpose,
        user_id=user.id,
        expires_at=utcnow() + lifetime,
    ).insert()
    return secret


async def _consume_one_time(token: str, purpose: TokenPurpose) -> ObjectId:
    """Mark the token used, atomically, if it exists, is unused and unexpired (checked here
    as well as by the TTL index, which the embedded backend never runs)."""
    now = utcnow()
    doc = await OneTimeToken.get_motor_collection().find_one_and_update(
        {
            "token_hash": hash_secret(token),
            "purpose": purpose.value,
            "used_at": None,
            "expires_at": {"$gt": now},
        },
        {"$set": {"used_at": now}},
    )
    if doc is None:
        raise ValidationFailed("The link is invalid, used or expired.", code="INVALID_TOKEN")
    return ObjectId(doc["user_id"])


async def _send_verification(settings: Settings, user: User) -> None:
    lifetime = timedelta(hours=settings.email_token_hours)
    secret = await _issue_one_time(user, TokenPurpose.verify_email, lifetime)
    await email.send(
        settings,
        user.email,
        "Confirm your RunWei e-mail address",
        "verify_email",
        full_name=user.full_name,
        link=f"{settings.frontend_url}/verify-email?token={secret}",
        hours=settings.email_token_hours,
    )


async def send_password_reset(settings: Settings, user: User) -> None:
    lifetime = timedelta(minutes=settings.reset_token_minutes)
    secret = await _issue_one_time(user, TokenPurpose.reset_password, lifetime)
    await email.send(
        settings,
        user.email,
        "Reset your RunWei password",
        "reset_password",
        full_name=user.full_name,
        link=f"{settings.frontend_url}/reset-password?token={secret}",
        minutes=settings.reset_token_minutes,
    )


async def verify_email(token: str) -> None:
    user_id = await _consume_one_time(token, TokenPurpose.verify_email)
    await User.get_motor_collection().update_one(
        {"_id": user_id}, {"$set": {"is_verified": True, "updated_at": utcnow()}}
    )
    log.info("email_verified", user_id=str(user_id))


async def resend_verification(settings: Settings, principal: Principal) -> None:
    user = await User.get(principal.id)
    if user is None:
        raise invalid_token()
    if user.is_verified:
        raise Conflict("The e-mail address is already verified.", code="ALREADY_VERIFIED")
    await _send_verification(settings, user)


async def forgot_password(settings: Settings, email_address: str) -> None:
    """Same answer for known and unknown addresses; only active accounts get mail."""
    user = await User.find_one(User.email == email_address.strip().lower())
    if user is None or not user.is_active:
        log.info("password_reset_requested", known=False)
        return
    await send_password_reset(settings, user)
    log.info("password_reset_requested", user_id=str(user.id))


async def reset_password(settings: Settings, token: str, new_password: str) -> None:
    token_doc = await OneTimeToken.find_one(
        OneTimeToken.token_hash == hash_secret(token),
        OneTimeToken.purpose == TokenPurpose.reset_password,
    )
    user = await User.get(token_doc.user_id) if token_doc else None
    # Check the policy before consuming, so a rejected password does not burn the link.
    check_password(new_password, user.email if user else "")
    user_id = await _consume_one_time(token, TokenPurpose.reset_password)
    await User.get_motor_collection().update_one(
        {"_id": user_id},
        {
            "$set": {
                "password_hash": await hash_password(settings, new_password),
                "password_changed_at": utcnow(),
                "password_reset_required": False,
                "is_verified": True,  # the link proved the address
                "failed_logins": 0,
                "locked_until": None,
                "updated_at": utcnow(),
            }
        },
    )
    await sessions.revoke_all(settings, PydanticObjectId(user_id), reason="password_reset")
    log.info("password_reset", user_id=str(user_id))
