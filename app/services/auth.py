"""Registration, login, refresh, logout, e-mail verification and password reset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app import email
from app.core.config import Settings
from app.core.exceptions import Conflict, Forbidden, Unauthorized, ValidationFailed
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
from app.services import login_throttle, sessions
from app.services.passwords import check_password

log = structlog.get_logger("app.auth")


def invalid_credentials() -> Unauthorized:
    return Unauthorized("E-mail or password is incorrect.", code="INVALID_CREDENTIALS")


def invalid_token(message: str = "The token is invalid or expired.") -> Unauthorized:
    """RFC 6750 §3.1: a token was presented and refused (a missing one is plain `Bearer`)."""
    return Unauthorized(
        message,
        code="INVALID_TOKEN",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


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
    await email.enqueue("verify_email", send_verification, settings, str(user.id))
    return user


# --- login ------------------------------------------------------------------------------------


KNOWN_CLIENTS_KEPT = 10


async def login(settings: Settings, email_address: str, password: str, client: str) -> TokenPair:
    """Known and unknown e-mails, right or wrong, cost the same work up to the password check:
    one user lookup, the attempt counted under both throttle keys (keyed by the e-mail as
    typed; counted *before* the check, so parallel guesses cannot outrun the count) and one
    argon2 verification (a dummy hash for unknown e-mails).
    """
    email_address = email_address.strip().lower()
    user = await User.find_one(User.email == email_address)
    tag = login_throttle.client_tag(settings, client)
    recognised = user is not None and tag in user.known_clients
    attempt = await login_throttle.charge(settings, email_address, client, recognised=recognised)
    ok = await verify_password(settings, password, user.password_hash if user else None)
    if not ok or user is None:
        login_throttle.failed(attempt)
        raise invalid_credentials()
    await login_throttle.succeeded(settings, attempt)  # the right password, whatever follows
    if not user.is_active:
        raise Forbidden("This account is deactivated.", code="ACCOUNT_DISABLED")
    if user.password_reset_required:
        raise Forbidden(
            "A password reset is required; use forgot-password.", code="PASSWORD_RESET_REQUIRED"
        )
    others = [t for t in user.known_clients if t != tag]
    known = [*others[-(KNOWN_CLIENTS_KEPT - 1) :], tag]  # newest last, a few kept
    await User.get_motor_collection().update_one(
        {"_id": user.id}, {"$set": {"last_login_at": utcnow(), "known_clients": known}}
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
    rotation = await sessions.rotate(settings, claims.sid, claims.jti)
    if rotation is None:
        if await sessions.session_exists(claims.sid):
            # A rotated refresh token came back: assume it was stolen; end the whole session.
            await sessions.revoke(settings, claims.sid, reason="refresh_token_reuse")
            log.warning("refresh_token_reuse", user_id=claims.sub, session_id=claims.sid)
            from app.services import account_notices

            await account_notices.security(PydanticObjectId(claims.sub), "session_revoked")
        raise invalid_token("The refresh token is no longer valid.")
    user = await User.get(PydanticObjectId(claims.sub))
    if user is None or not user.is_active:
        await sessions.revoke(settings, claims.sid, reason="user_inactive")
        raise invalid_token()
    pair, _ = sessions.issue_pair(settings, user, claims.sid, rotation.jti)
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


# E-mail jobs: run off the request path by `email.enqueue`, so the answer to a request never
# depends on whether an account exists. Plain arguments (ids, addresses) for a future broker.


async def send_verification(settings: Settings, user_id: str) -> None:
    user = await User.get(PydanticObjectId(user_id))
    if user is None or user.is_verified or not user.is_active:
        return
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


async def send_password_reset(settings: Settings, user_id: str) -> None:
    user = await User.get(PydanticObjectId(user_id))
    if user is None or not user.is_active:
        return
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


async def password_reset_requested(settings: Settings, email_address: str) -> None:
    user = await User.find_one(User.email == email_address)
    log.info("password_reset_requested", known=user is not None)
    if user is not None:
        await send_password_reset(settings, str(user.id))


async def verification_requested(settings: Settings, email_address: str) -> None:
    user = await User.find_one(User.email == email_address)
    log.info("verification_requested", known=user is not None)
    if user is not None:
        await send_verification(settings, str(user.id))


async def verify_email(token: str, settings: Settings | None = None) -> None:
    user_id = await _consume_one_time(token, TokenPurpose.verify_email)
    await User.get_motor_collection().update_one(
        {"_id": user_id}, {"$set": {"is_verified": True, "updated_at": utcnow()}}
    )
    log.info("email_verified", user_id=str(user_id))
    if settings is not None:  # the address is confirmed: welcome (once per account)
        await email.enqueue_once(
            f"welcome:{user_id}", "welcome", send_welcome, settings, str(user_id)
        )


async def send_welcome(settings: Settings, user_id: str) -> None:
    user = await User.get(PydanticObjectId(user_id))
    if user is None or not user.is_active:
        return
    await email.send(
        settings,
        user.email,
        "Welcome to RunWei",
        "welcome",
        full_name=user.full_name,
        link=settings.frontend_url,
    )


async def forgot_password(settings: Settings, email_address: str) -> None:
    """Queues the work and returns: the same answer, headers and time for every address.
    Only active accounts get mail."""
    address = email_address.strip().lower()
    await email.enqueue("password_reset_requested", password_reset_requested, settings, address)


async def resend_verification(settings: Settings, email_address: str) -> None:
    """Public, like forgot-password, so it cannot confirm that an address has an account:
    always queued and accepted; only an active, unverified account gets a new link (which
    retires the previous one)."""
    address = email_address.strip().lower()
    await email.enqueue("verification_requested", verification_requested, settings, address)


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
                "updated_at": utcnow(),
            }
        },
    )
    if user is not None:  # the owner proved the address: throttling of this account ends
        await login_throttle.clear(user.email)
    await sessions.revoke_all(settings, PydanticObjectId(user_id), reason="password_reset")
    log.info("password_reset", user_id=str(user_id))
    from app.services import account_notices  # critical: always told, in-app and by e-mail

    await account_notices.security(PydanticObjectId(user_id), "password_reset")
