"""Password hashing (argon2 through passlib) and JWTs (HS256: issued with python-jose,
verified here — signature first, then the claims)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from anyio import to_thread
from jose import jwt
from passlib.context import CryptContext
from passlib.exc import PasswordSizeError

from app.core.config import Settings

ALGORITHM = "HS256"


class TokenType(StrEnum):
    access = "access"
    refresh = "refresh"


@lru_cache(maxsize=4)
def _pwd_context(memory_kib: int, rounds: int) -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        argon2__memory_cost=memory_kib,
        argon2__rounds=rounds,
        argon2__parallelism=1,
    )


def pwd_context(settings: Settings) -> CryptContext:
    return _pwd_context(settings.password_hash_memory_kib, settings.password_hash_rounds)


async def hash_password(settings: Settings, password: str) -> str:
    """Hash off the event loop: argon2 is deliberately slow."""
    return await to_thread.run_sync(pwd_context(settings).hash, password)


async def verify_password(settings: Settings, password: str, hashed: str | None) -> bool:
    """Verify against `hashed`, or against a dummy hash so unknown users cost the same time."""
    ctx = pwd_context(settings)
    target = hashed or _dummy_hash(settings.password_hash_memory_kib, settings.password_hash_rounds)
    try:
        ok = await to_thread.run_sync(ctx.verify, password, target)
    except PasswordSizeError:  # past passlib's 4 KiB: wrong, never a 500 (inputs are bounded)
        return False
    return bool(ok) and hashed is not None


@lru_cache(maxsize=4)
def _dummy_hash(memory_kib: int, rounds: int) -> str:
    return str(_pwd_context(memory_kib, rounds).hash(secrets.token_urlsafe(16)))


def new_token_id() -> str:
    return uuid.uuid4().hex


def random_secret() -> str:
    """A URL-safe single-use secret (e-mail verification, password reset)."""
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    """Secrets are stored only as SHA-256 digests (high-entropy, so no salt is needed)."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TokenClaims:
    sub: str
    role: str
    type: TokenType
    jti: str
    sid: str
    iat: datetime
    exp: datetime


def create_token(
    settings: Settings,
    *,
    subject: str,
    role: str,
    token_type: TokenType,
    session_id: str,
    jti: str | None = None,
    now: datetime | None = None,
) -> tuple[str, TokenClaims]:
    now = now or datetime.now(UTC)
    if token_type is TokenType.access:
        lifetime = timedelta(minutes=settings.access_token_minutes)
    else:
        lifetime = timedelta(days=settings.refresh_token_days)
    claims = TokenClaims(
        sub=subject,
        role=role,
        type=token_type,
        jti=jti or new_token_id(),
        sid=session_id,
        iat=now.replace(microsecond=0),
        exp=(now + lifetime).replace(microsecond=0),
    )
    payload: dict[str, Any] = {
        "sub": claims.sub,
        "role": claims.role,
        "type": claims.type.value,
        "jti": claims.jti,
        "sid": claims.sid,
        "iat": int(claims.iat.timestamp()),
        "exp": int(claims.exp.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    token = jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)
    return token, claims


class InvalidToken(Exception):
    """The token is malformed, tampered, expired or of the wrong kind."""


MAX_TOKEN_LENGTH = 2048  # ours are ~350 characters
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]{2,256}\.[A-Za-z0-9_-]{2,1500}\.[A-Za-z0-9_-]{43}")


def _signed_by_us(settings: Settings, token: str) -> bool:
    """Shape, length and HS256 signature, checked before the token's header or claims are
    parsed: JSON from a client never reaches the JWT library, so garbage costs one HMAC."""
    if len(token) > MAX_TOKEN_LENGTH:
        return False
    if _COMPACT_JWS.fullmatch(token) is None:
        return False
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(
        settings.secret_key.get_secret_value().encode(), signing_input.encode(), hashlib.sha256
    ).digest()
    given = base64.urlsafe_b64decode(signature + "=")
    return hmac.compare_digest(expected, given)


def _segment(text: str) -> Any:
    """A base64url JSON segment of a token we signed (the signature is checked first)."""
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _claims(settings: Settings, token: str) -> dict[str, Any]:
    """The header and claims checks python-jose made (HS256 only; `exp`, `iat`, `sub`, `jti`,
    `aud`, `iss` required; not expired; `nbf` respected; audience and issuer ours), without
    its generic machinery: this runs on every authenticated request, and only for tokens
    whose HS256 signature `_signed_by_us` already verified."""
    head, body, _ = token.split(".")
    try:
        header, claims = _segment(head), _segment(body)
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error is a ValueError
        raise InvalidToken("malformed segment") from exc
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidToken("unexpected algorithm")
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    missing = REQUIRED_CLAIMS.difference(claims)
    if missing:
        raise InvalidToken(f"missing claims: {', '.join(sorted(missing))}")
    now = int(time.time())
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", 0)
    if not all(type(v) is int for v in (exp, iat, nbf)):
        raise InvalidToken("exp, iat and nbf must be integers")
    if exp < now:
        raise InvalidToken("expired")
    if nbf > now:
        raise InvalidToken("not yet valid")
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or settings.jwt_audience not in audiences:
        raise InvalidToken("wrong audience")
    if claims["iss"] != settings.jwt_issuer:
        raise InvalidToken("wrong issuer")
    if not isinstance(claims["sub"], str) or not isinstance(claims["jti"], str):
        raise InvalidToken("sub and jti must be strings")
    return claims


REQUIRED_CLAIMS = frozenset({"exp", "iat", "sub", "jti", "aud", "iss"})


def decode_token(settings: Settings, token: str, expected_type: TokenType) -> TokenClaims:
    if not _signed_by_us(settings, token):
        raise InvalidToken("malformed or not signed by us")
    payload = _claims(settings, token)
    if payload.get("type") != expected_type.value:
        raise InvalidToken("wrong token type")
    try:
        return TokenClaims(
            sub=str(payload["sub"]),
            role=str(payload["role"]),
            type=TokenType(payload["type"]),
            jti=str(payload["jti"]),
            sid=str(payload["sid"]),
            iat=datetime.fromtimestamp(int(payload["iat"]), UTC),
            exp=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("missing claims") from exc
