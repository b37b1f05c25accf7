"""Signed, scoped tokens for links in e-mails that work without logging in (one-click
unsubscribe): `base64url(JSON payload) "." base64url(HMAC-SHA256)`, the MAC keyed by
SECRET_KEY and bound to a purpose, so a token for one purpose is worthless for another.
Checked in constant time before the payload is parsed."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from app.core.config import Settings

MAX_TOKEN_LENGTH = 512


class BadSignature(Exception):
    """The token is malformed, tampered with, or for another purpose."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(settings: Settings, purpose: str, body: str) -> bytes:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"{purpose}.{body}".encode(), hashlib.sha256).digest()


def sign(settings: Settings, purpose: str, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_b64(_mac(settings, purpose, body))}"


def verify(settings: Settings, purpose: str, token: str) -> dict[str, Any]:
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadSignature("malformed")
    body, _, signature = token.partition(".")
    try:
        given = _unb64(signature)
        if not hmac.compare_digest(given, _mac(settings, purpose, body)):
            raise BadSignature("bad signature")
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("malformed") from exc
    if not isinstance(payload, dict):
        raise BadSignature("malformed")
    return payload
