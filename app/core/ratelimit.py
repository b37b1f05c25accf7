"""The client IP (one place) and slowapi rate limiting per client IP on sensitive routes.

slowapi binds its decorators to one `Limiter` at import time, so the limiter is a module
singleton; `configure_limiter` points it at the storage and limits of the running app.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import Any

import structlog
from limits import RateLimitItem
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from slowapi import Limiter
from starlette.requests import Request
from starlette.responses import Response

from app.core.config import Settings

_current: dict[str, Settings] = {}


MAX_HOPS = 20  # X-Forwarded-For entries looked at, right to left


def _address(value: str) -> str | None:
    """An IP from an X-Forwarded-For entry, without a port (`1.2.3.4:5678`, `[::1]:80`, as
    Azure App Service writes them); None when it is not an address."""
    text = value.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _in(address: str | None, proxies: list[str]) -> bool:
    """Whether `address` falls in one of the listed IPs/CIDRs (`*` is not a network)."""
    if not address:
        return False
    ip = ipaddress.ip_address(address)
    for entry in proxies:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def resolve_client_ip(peer: str, forwarded: list[str], proxies: list[str]) -> str:
    """The caller's IP, the one rule for it.

    `X-Forwarded-For` counts only when the direct peer is a trusted proxy (`*` trusts any
    peer). Then, from the right, entries that are themselves listed proxies are skipped and
    the first other entry is the client; `*` never makes an entry trusted, so with `*` the
    client is the right-most entry (the one the proxy appended), not one the caller wrote.
    """
    peer_ip = _address(peer) if peer else None
    if not forwarded or not (("*" in proxies and peer) or _in(peer_ip, proxies)):
        return peer_ip or peer or "unknown"
    hops = [hop for header in forwarded for hop in header.split(",") if hop.strip()][-MAX_HOPS:]
    for hop in reversed(hops):
        address = _address(hop)
        if not _in(address, proxies):
            return address or hop.strip()[:64]
    # Empty, or every entry a listed proxy: the left-most is the furthest hop we know.
    return (_address(hops[0]) if hops else None) or peer_ip or peer or "unknown"


def client_ip(request: Request) -> str:
    """The caller's IP from TRUSTED_PROXIES (computed once per request). uvicorn runs with
    proxy headers off (`make run`, app/serve.py), so the peer here is the real socket peer."""
    cached: str | None = getattr(request.state, "client_ip", None)
    if cached is None:
        settings: Settings = request.app.state.settings
        peer = request.client.host if request.client else ""
        cached = resolve_client_ip(
            peer, request.headers.getlist("x-forwarded-for"), settings.trusted_proxies
        )
        request.state.client_ip = cached
    return cached


log = structlog.get_logger("app.ratelimit")

# The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-07): integers,
# `RateLimit-Reset` in delta-seconds; `Retry-After` (delta-seconds) on the 429 only.
RATE_LIMIT_HEADERS = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
POLICY_HEADER = "RateLimit-Policy"


def rate_limit_headers(limit: RateLimitItem, reset_at: float, remaining: int) -> dict[str, str]:
    reset = max(0, math.ceil(reset_at - time.time()))
    return {
        "RateLimit-Limit": str(limit.amount),
        "RateLimit-Remaining": str(max(0, remaining)),
        "RateLimit-Reset": str(reset),
        POLICY_HEADER: f"{limit.amount};w={limit.get_expiry()}",
    }


class RunweiLimiter(Limiter):
    """slowapi with the IETF draft's header fields instead of its `X-RateLimit-*` (whose
    reset is a fractional epoch) and without `Retry-After` on successful responses."""

    def _inject_headers(
        self, response: Response, current_limit: tuple[RateLimitItem, list[str]] | Any
    ) -> Response:
        if not (self.enabled and self._headers_enabled and current_limit is not None):
            return response
        limit, args = current_limit
        try:
            reset_at, remaining = self.limiter.get_window_stats(limit, *args)
        except Exception as exc:  # storage unreachable: the headers are best effort
            log.warning("rate_limit_headers_failed", error=type(exc).__name__)
            return response
        headers = rate_limit_headers(limit, reset_at, remaining)
        for name, value in headers.items():
            response.headers[name] = value
        if response.status_code == 429:
            response.headers["Retry-After"] = str(max(1, int(headers["RateLimit-Reset"])))
        return response


limiter = RunweiLimiter(key_func=client_ip, headers_enabled=True, storage_uri="memory://")


def is_rate_limited(endpoint: Callable[..., Any]) -> bool:
    """Whether slowapi limits this endpoint (its headers are then declared in the spec)."""
    name = f"{endpoint.__module__}.{endpoint.__name__}"
    return name in limiter._route_limits or name in limiter._dynamic_route_limits


def configure_limiter(settings: Settings) -> Limiter:
    """Point the singleton at this app's storage (fresh for memory://) and switch."""
    _current["settings"] = settings
    limiter.enabled = settings.rate_limit_enabled
    storage = storage_from_string(settings.rate_limit_storage_uri)
    # slowapi has no public API to swap storage after construction.
    limiter._storage = storage
    limiter._limiter = MovingWindowRateLimiter(storage)
    return limiter


def limit_from_settings(attribute: str) -> Callable[[], str]:
    """A dynamic slowapi limit read from the running app's settings."""

    def provider() -> str:
        settings = _current.get("settings")
        return str(getattr(settings, attribute)) if settings else "1000/minute"

    provider.__name__ = f"limit_{attribute}"
    return provider
