"""Access-token claims, checked by our own decoder after the HS256 signature: tokens signed
with our key but carrying what we never issue are refused (and the good one is accepted)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from app.core.security import InvalidToken, TokenType, decode_token
from app.tests.conftest import make_settings

SETTINGS = make_settings()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(claims: Any, header: Any = None) -> str:
    """A token signed with our key (HMAC-SHA256), whatever its header and claims say."""
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    key = SETTINGS.secret_key.get_secret_value().encode()
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def good(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "6b15a588f244f2bf60075ec7",
        "role": "entrepreneur",
        "type": "access",
        "jti": "j",
        "sid": "s",
        "iat": now,
        "exp": now + 60,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not ...}


def test_a_token_we_issue_is_accepted() -> None:
    claims = decode_token(SETTINGS, sign(good()), TokenType.access)
    assert (claims.sub, claims.jti, claims.sid) == ("6b15a588f244f2bf60075ec7", "j", "s")
    listed = good(aud=["someone", SETTINGS.jwt_audience])  # a list holding ours is ours
    assert decode_token(SETTINGS, sign(listed), TokenType.access).sub


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        ({"alg": "HS512"}, good()),
        ({"alg": "none"}, good()),
        ({}, good()),
        (["HS256"], good()),
        (None, ["not", "an", "object"]),
        (None, good(exp=...)),
        (None, good(iat=...)),
        (None, good(sub=...)),
        (None, good(jti=...)),
        (None, good(aud=...)),
        (None, good(iss=...)),
        (None, good(exp=int(time.time()) - 1)),
        (None, good(exp=True)),
        (None, good(exp="9999999999")),
        (None, good(iat=1.5)),
        (None, good(nbf=int(time.time()) + 60)),
        (None, good(aud="someone-else")),
        (None, good(aud=["someone-else"])),
        (None, good(aud={"x": 1})),
        (None, good(iss="evil")),
        (None, good(sub=42)),
        (None, good(jti=["j"])),
        (None, good(type="refresh")),
        (None, good(sid=...)),
        (None, good(role=...)),
    ],
)
def test_signed_but_not_what_we_issue(header: Any, claims: Any) -> None:
    with pytest.raises(InvalidToken):
        decode_token(SETTINGS, sign(claims, header), TokenType.access)


def test_signed_segments_that_are_not_base64_json() -> None:
    key = SETTINGS.secret_key.get_secret_value().encode()
    for head, body in (("e30", "bm90IGpzb24"), ("e30", "A"), ("_w", "e30")):
        signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidToken):
            decode_token(SETTINGS, f"{head}.{body}.{_b64(signature)}", TokenType.access)
