"""The client IP comes from one rule (TRUSTED_PROXIES, `client_ip`), and the server in front
of the app (uvicorn, as `make run` and the container start it) does not rewrite the peer
address behind the app's back."""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from uvicorn.main import main as uvicorn_cli

from app.core.ratelimit import resolve_client_ip
from app.main import create_app
from app.serve import server_options
from app.tests.conftest import make_settings
from app.tests.net import free_port

ROOT = Path(__file__).resolve().parents[3]
FORGOT = "/api/v1/auth/forgot-password"


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        # No trusted proxy: the header is ignored, whatever it says.
        ("203.0.113.10", ["198.51.100.1"], [], "203.0.113.10"),
        ("203.0.113.10", ["198.51.100.1"], ["10.0.0.0/8"], "203.0.113.10"),
        # A trusted peer: the right-most entry that is not a listed proxy.
        ("10.0.0.5", ["198.51.100.1"], ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 10.0.0.9"], ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6", "198.51.100.1"], ["10.0.0.0/8"], "198.51.100.1"),
        # `*` trusts the peer but no entry: a caller's own (left-most) entry never wins.
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], ["*"], "198.51.100.1"),
        # Ports (as Azure App Service appends them) and IPv6 brackets are stripped.
        ("10.0.0.5", ["198.51.100.1:53312"], ["*"], "198.51.100.1"),
        ("10.0.0.5", ["[2001:db8::1]:443"], ["*"], "2001:db8::1"),
        ("10.0.0.5", ["2001:db8::1"], ["*"], "2001:db8::1"),
        # Every entry a listed proxy: the furthest one.
        ("10.0.0.5", ["10.0.0.7, 10.0.0.8"], ["10.0.0.0/8"], "10.0.0.7"),
        # Empty or junk headers never raise.
        ("10.0.0.5", [" , "], ["*"], "10.0.0.5"),
        ("10.0.0.5", ["unknown"], ["*"], "unknown"),
        ("10.0.0.5", ["x" * 500], ["*"], "x" * 64),
        ("", ["198.51.100.1"], ["*"], "unknown"),
    ],
)
def test_resolve_client_ip(
    peer: str, forwarded: list[str], proxies: list[str], expected: str
) -> None:
    assert resolve_client_ip(peer, forwarded, proxies) == expected


@asynccontextmanager
async def client_at(app: FastAPI, ip: str) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=(ip, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _login_fails(client: AsyncClient, forwarded: str) -> int:
    response = await client.post(
        "/api/v1/auth/login/json",
        json={"email": "victim@example.org", "password": "wrong-pass-000"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


async def test_spoofed_forwarded_for_does_not_change_the_login_bucket(app: FastAPI) -> None:
    """From an untrusted peer, a new X-Forwarded-For per attempt is still one client."""
    async with client_at(app, "203.0.113.10") as attacker:
        codes = [await _login_fails(attacker, f"198.51.100.{n}") for n in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]


@pytest.mark.parametrize("settings_overrides", [{"trusted_proxies": ["10.0.0.0/8"]}])
async def test_forwarded_for_from_a_trusted_proxy_is_the_client(app: FastAPI) -> None:
    async with client_at(app, "10.1.2.3") as proxy:
        codes = [await _login_fails(proxy, "198.51.100.1") for _ in range(5)]
        assert codes == [401, 401, 401, 401, 429]
        # Another client behind the same proxy has its own bucket...
        assert await _login_fails(proxy, "198.51.100.2") == 401
        # ...and a caller's spoofed left-most entry does not move it out of its own.
        assert await _login_fails(proxy, "198.51.100.2, 198.51.100.1") == 429


# --- the real server, as `make run` and the container start it ---------------------------------


def make_run_options() -> dict[str, Any]:
    """uvicorn's options from the Makefile's `run` recipe, parsed by uvicorn's own CLI."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "no run target"
    line = next(cmd for cmd in recipe.group(1).splitlines() if "uvicorn" in cmd)
    args = shlex.split(line.replace("$(HOST)", "127.0.0.1").replace("$(PORT)", "8000"))
    params = uvicorn_cli.make_context("uvicorn", args[1:]).params
    return {
        "proxy_headers": params["proxy_headers"],
        "forwarded_allow_ips": params["forwarded_allow_ips"],
        "access_log": params["access_log"],
    }


def container_options() -> dict[str, Any]:
    options = server_options({"FORWARDED_ALLOW_IPS": "*"})  # even if someone sets it
    return {k: v for k, v in options.items() if k not in {"host", "port", "workers"}}


@asynccontextmanager
async def running_server(options: dict[str, Any], **settings: Any) -> AsyncIterator[str]:
    port = free_port()
    app = create_app(make_settings(**settings))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options)
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


@pytest.mark.parametrize(
    "options", [make_run_options, container_options], ids=["make-run", "container"]
)
async def test_server_does_not_rewrite_the_peer(options: Any, tmp_path: Path) -> None:
    """The peer is 127.0.0.1, which uvicorn by default trusts for X-Forwarded-For: with its
    proxy headers on, every spoofed value would be a fresh rate-limit bucket."""
    limits = {"rate_limit_forgot_password": "2/minute", "storage_local_dir": str(tmp_path)}
    async with running_server(options(), **limits) as base, AsyncClient(base_url=base) as http:
        codes = [
            (
                await http.post(
                    FORGOT, json={"email": "x@example.org"}, headers={"X-Forwarded-For": ip}
                )
            ).status_code
            for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3")
        ]
    assert codes == [202, 202, 429]
    # With the peer listed in TRUSTED_PROXIES, the app (and only the app) believes the header.
    trusted = {**limits, "trusted_proxies": ["127.0.0.1"]}
    async with running_server(options(), **trusted) as base, AsyncClient(base_url=base) as http:
        codes = [
            (
                await http.post(
                    FORGOT, json={"email": "x@example.org"}, headers={"X-Forwarded-For": ip}
                )
            ).status_code
            for ip in ("198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.1")
        ]
    assert codes == [202, 202, 202, 429]
