"""Production server entry point (the container's CMD): uvicorn workers configured from env.

App Service sets PORT (or WEBSITES_PORT); WEB_CONCURRENCY sets the worker count.
uvicorn's own X-Forwarded-* handling is off: it would rewrite the peer address before the app
sees it. The app derives the client IP itself, in one place, from TRUSTED_PROXIES
(app/core/ratelimit.py `client_ip`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import uvicorn

DEFAULT_PORT = 8000


def server_options(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "host": env.get("HOST", "0.0.0.0"),  # noqa: S104  # nosec B104 - inside a container
        "port": int(env.get("PORT") or env.get("WEBSITES_PORT") or DEFAULT_PORT),
        "workers": max(1, int(env.get("WEB_CONCURRENCY", "2"))),
        "proxy_headers": False,  # the app owns X-Forwarded-For (TRUSTED_PROXIES)
        "access_log": False,  # the app writes one structured access line per request
        "timeout_graceful_shutdown": 20,
    }


def main() -> None:
    uvicorn.run("app.main:create_app", factory=True, **server_options(os.environ))


if __name__ == "__main__":
    main()
