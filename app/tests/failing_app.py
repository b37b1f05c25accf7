"""Our app plus routes that fail on purpose, for the logging tests (in-process and under a
real uvicorn: `uvicorn --factory app.tests.failing_app:create`).

The failures carry what a careless log would leak: the bearer token and a password in
frame locals and in the exception text, a cookie, a large local object, deep stacks and
chained exceptions.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from app.main import create_app
from app.tests.conftest import make_settings

PREFIX = "/api/v1/_test"
LOCAL_MARKER = "FRAME-LOCAL-MARKER-7f3a"  # only ever in a frame's locals


def _deep(depth: int, payload: dict[str, Any], authorization: str) -> None:
    marker = LOCAL_MARKER * 3  # noqa: F841 - a local that must never reach a log
    if depth:
        _deep(depth - 1, payload, authorization)
        return
    try:
        raise KeyError(f"no session for {authorization}")
    except KeyError as exc:
        raise RuntimeError(f"could not use {payload!r} (auth {authorization})") from exc


def add_failing_routes(app: FastAPI) -> None:
    async def boom(request: Request, payload: dict[str, Any]) -> None:
        big_local = [LOCAL_MARKER + str(i) for i in range(20_000)]  # noqa: F841
        authorization = request.headers.get("authorization", "")
        # What a library might log on its own, and what our own code might log carelessly.
        logging.getLogger("some.library").warning("retrying with header %s", authorization)
        structlog.get_logger("app.test").warning(
            "careless_log", headers=dict(request.headers), body=payload
        )
        _deep(120, payload, authorization)

    async def slow_boom(request: Request) -> None:
        await asyncio.sleep(0.3)
        _deep(120, {"password": request.headers.get("x-password", "")}, "")

    async def stream_boom() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first chunk\n"
            raise RuntimeError("failed after the response started")

        return StreamingResponse(chunks(), media_type="text/plain")

    app.add_api_route(f"{PREFIX}/boom", boom, methods=["POST"])
    app.add_api_route(f"{PREFIX}/slow-boom", slow_boom, methods=["GET"])
    app.add_api_route(f"{PREFIX}/stream-boom", stream_boom, methods=["GET"])


def create() -> FastAPI:
    """Factory for a real server run by the tests (settings from the environment)."""
    settings = make_settings(
        log_format=os.environ.get("LOG_FORMAT", "json"),
        log_level="INFO",
        rate_limit_enabled=False,
        storage_local_dir=os.environ["STORAGE_LOCAL_DIR"],
    )
    app = create_app(settings)
    add_failing_routes(app)
    return app
