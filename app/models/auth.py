"""Login sessions, the token denylist and single-use e-mail tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import utcnow


class AuthSession(Document):
    """One login: a family of rotated refresh tokens. `_id` is the `sid` claim."""

    id: str  # type: ignore[assignment]
    user_id: PydanticObjectId
    refresh_jti: str
    # The jti the last rotation retired: presenting it within the reuse grace window gets
    # a sibling pair (concurrent refreshes from two tabs); later, it revokes the session.
    previous_jti: str | None = None
    revoked: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    rotated_at: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "auth_sessions"
        indexes = [
            IndexModel([("user_id", 1), ("revoked", 1)], name="user_revoked"),
            IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires"),
        ]


class RevokedToken(Document):
    """Denylist. `_id` is a token `jti` or `sid:<session id>` for a whole session.

    A TTL index drops entries once the token could no longer be valid anyway; the embedded
    backend never expires documents, which is harmless here (a stale entry only denies an
    already-expired token).
    """

    id: str  # type: ignore[assignment]
    expires_at: datetime

    class Settings:
        name = "revoked_tokens"
        indexes = [IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires")]


class TokenPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"  # noqa: S105 - a purpose name, not a secret


class OneTimeToken(Document):
    """A single-use secret, stored as its SHA-256 digest. Expiry is checked in code too."""

    token_hash: str
    purpose: TokenPurpose
    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None

    class Settings:
        name = "one_time_tokens"
        indexes = [
            IndexModel([("token_hash", 1)], unique=True, name="token_hash_unique"),
            IndexModel([("user_id", 1), ("purpose", 1)], name="user_purpose"),
            IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires"),
        ]


class LoginThrottle(Document):
    """Failed logins counted under one key: an account (`acct:<email>`, every client) or an
    account seen from one client (`pair:<email>|<ip>`). Keyed by the e-mail as typed, whether
    or not an account has it, so unknown addresses are throttled exactly like known ones.

    `expires_at` (TTL index, and checked in code) is when the counter is forgotten.
    """

    id: str  # type: ignore[assignment]
    scope: str  # "account" or "client"
    account: str
    failures: int = 0
    blocked_until: datetime | None = None
    expires_at: datetime

    class Settings:
        name = "login_throttles"
        indexes = [
            IndexModel([("account", 1)], name="account"),
            IndexModel([("scope", 1), ("blocked_until", 1)], name="scope_blocked_until"),
            IndexModel([("expires_at", 1)], expireAfterSeconds=0, name="ttl_expires"),
        ]
