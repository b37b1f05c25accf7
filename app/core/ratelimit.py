"""slowapi rate limiting: per client IP on sensitive routes, per account for login.

slowapi binds its decorators to one `Limiter` at import time, so the limiter is a module
singleton; `configure_limiter` points it at the storage and limits of the running app.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from slowapi import Limiter
from starlette.requests import Request

from app.core.config import Settings
from app.core.exceptions import RateLimited

_current: dict[str, Settings] = {}


def _trusted(peer: str, proxies: list[str]) -> bool:
    if not proxies or not peer:
        return False
    if "*" in proxies:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in proxies:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request: Request) -> str:
    """The caller's IP. X-Forwarded-For counts only when the direct peer is a trusted proxy;
    then the right-most address that is not itself a trusted proxy is the client."""
    peer = request.client.host if request.client else ""
    settings: Settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and _trusted(peer, settings.trusted_proxies):
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _trusted(hop, settings.trusted_proxies):
                return hop
        if hops:
            return hops[0]
    return peer or "unknown"


limiter = Limiter(key_func=client_ip, headers_enabled=True, storage_uri="memory://")


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


def hit_account_limit(settings: Settings, scope: str, account: str) -> None:
    """Count one attempt against `account` (e.g. a login e-mail); 429 past the limit."""
    if not settings.rate_limit_enabled:
        return
    item = parse(getattr(settings, f"rate_limit_{scope}"))
    strategy = limiter._limiter
    if strategy.hit(item, "account", scope, account):
        return
    reset_at, _ = strategy.get_window_stats(item, "account", scope, account)
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise RateLimited(
        "Too many attempts for this account; try again later.",
        headers={"Retry-After": str(retry_after)},
    )
