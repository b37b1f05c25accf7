"""Clients that send the whole body before reading the answer (as simple HTTP clients do)
still read a 413 — or a 401 on an upload — instead of a connection reset: the server drains
a bounded amount before answering, and beyond that bound answers and closes.

Run against a real uvicorn server with a raw socket client, because the failure lives in
the TCP connection (a server that closes with unread data makes the kernel send RST)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.tests import databases
from app.tests.net import free_port

ROOT = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024
DRAIN = 8 * MIB


@dataclass
class Server:
    port: int
    token: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("drain")
    port = free_port()
    settings = {
        "ENVIRONMENT": "test",
        "SEED_DEMO_DATA": "false",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "STORAGE_LOCAL_DIR": str(workdir / "media"),
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_ROUNDS": "1",
        "MAX_BODY_BYTES": str(MIB),
        "MEDIA_MAX_IMAGE_BYTES": str(MIB),
        "BODY_DRAIN_BYTES": str(DRAIN),
        "BODY_DRAIN_SECONDS": "10",
    }
    with databases.for_server_process({**os.environ, **settings}) as env:
        yield from _serve(workdir, port, env)


def _serve(workdir: Path, port: int, env: dict[str, str]) -> Iterator[Server]:
    process = subprocess.Popen(  # noqa: S603 - our own app
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
         "--app-dir", str(ROOT), "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=workdir,  # no stray .env
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/live").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("uvicorn did not start")
            time.sleep(0.2)
        account = {"email": "drain@example.org", "password": "drain-password-123", "full_name": "D"}
        httpx.post(f"{base}/auth/register", json=account).raise_for_status()
        credentials = {"email": account["email"], "password": account["password"]}
        login = httpx.post(f"{base}/auth/login/json", json=credentials)
        yield Server(port, login.json()["access_token"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def code(self) -> str:
        return str(json.loads(self.body)["error"]["code"])


def _read_reply(sock: socket.socket) -> Reply:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before the answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if lines[0].split()[1] == "100":
        pytest.fail("the server invited the body (100 Continue) for a request it refuses")
    headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return Reply(int(lines[0].split()[1]), headers, rest[:length])


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
    return sock


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} /api/v1{path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send_all_then_read(
    server: Server, path: str, headers: dict[str, str], body: bytes, *, chunked: bool = False
) -> tuple[Reply, socket.socket]:
    """What a simple client does: write the request completely, then read the answer."""
    sock = _connect(server)
    if chunked:
        headers = {**headers, "Transfer-Encoding": "chunked"}
    else:
        headers = {**headers, "Content-Length": str(len(body))}
    sock.sendall(_head("POST", path, headers))
    step = 256 * 1024
    for start in range(0, len(body), step):
        piece = body[start : start + step]
        sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
    if chunked:
        sock.sendall(b"0\r\n\r\n")
    return _read_reply(sock), sock


def _multipart(size: int, purpose: str | None = "avatar") -> tuple[dict[str, str], bytes]:
    boundary = "drain-boundary"
    parts = b""
    if purpose:
        parts += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
        ).encode()
    parts += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = parts + b"\x89PNG\r\n\x1a\n" + b"\0" * size + f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


@pytest.mark.parametrize("connection", ["keep-alive", "close"])
def test_json_body_over_max_body_bytes(server: Server, connection: str) -> None:
    body = b'{"email": "' + b"a" * (3 * MIB) + b'"}'
    headers = {"Content-Type": "application/json", "Connection": connection}
    reply, sock = _send_all_then_read(server, "/auth/login/json", headers, body)
    with sock:
        assert (reply.status, reply.code) == (413, "PAYLOAD_TOO_LARGE")
        if connection == "keep-alive":  # drained to the end: the connection is still good
            sock.sendall(_head("GET", "/health/live", {}))
            assert _read_reply(sock).status == 200


def test_chunked_body_over_max_body_bytes(server: Server) -> None:
    body = b'{"email": "' + b"a" * (3 * MIB) + b'"}'
    headers = {"Content-Type": "application/json", "Connection": "close"}
    reply, sock = _send_all_then_read(server, "/auth/login/json", headers, body, chunked=True)
    sock.close()
    assert (reply.status, reply.code) == (413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize("connection", ["keep-alive", "close"])
@pytest.mark.parametrize("route", ["/media", "/profiles/me/avatar"])
def test_upload_over_its_limit(server: Server, connection: str, route: str) -> None:
    headers, body = _multipart(3 * MIB, purpose="avatar" if route == "/media" else None)
    headers |= {"Authorization": f"Bearer {server.token}", "Connection": connection}
    if route == "/profiles/me/avatar":
        httpx.put(
            f"http://127.0.0.1:{server.port}/api/v1/profiles/me",
            headers={"Authorization": f"Bearer {server.token}"},
            json={"display_name": "D", "business_name": "B"},
        )
        sock = _connect(server)
        sock.sendall(_head("PUT", route, {**headers, "Content-Length": str(len(body))}) + body)
        reply = _read_reply(sock)
    else:
        reply, sock = _send_all_then_read(server, route, headers, body)
    with sock:
        assert (reply.status, reply.code) == (413, "FILE_TOO_LARGE")


def test_upload_refused_before_reading(server: Server) -> None:
    """No token: 401 before a byte of the 3 MiB upload is read — still readable."""
    headers, body = _multipart(3 * MIB)
    reply, sock = _send_all_then_read(server, "/media", headers | {"Connection": "close"}, body)
    sock.close()
    assert (reply.status, reply.code) == (401, "NOT_AUTHENTICATED")


def test_expect_continue_is_not_invited(server: Server) -> None:
    """A client that waits for 100 Continue gets the refusal instead, and no invitation."""
    sock = _connect(server)
    with sock:
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(3 * MIB),
            "Expect": "100-continue",
        }
        sock.sendall(_head("POST", "/auth/login/json", headers))
        reply = _read_reply(sock)
        assert (reply.status, reply.code) == (413, "PAYLOAD_TOO_LARGE")
        assert reply.headers.get("connection") == "close"


def test_beyond_the_drain_bound_the_server_answers_and_closes(server: Server) -> None:
    """A client announcing 1 GiB keeps writing: the server reads at most about DRAIN bytes
    more, answers 413 with `Connection: close`, and stops reading."""
    sock = _connect(server)
    sock.sendall(
        _head("POST", "/auth/login/json", {"Content-Type": "application/json",
                                           "Content-Length": str(1024 * MIB)})
    )  # fmt: skip
    sent = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal sent
        chunk = b"a" * 65536
        try:
            while not stop.is_set() and sent < 256 * MIB:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        reply = _read_reply(sock)
    finally:
        stop.set()
        thread.join(timeout=20)
        sock.close()
    assert (reply.status, reply.code) == (413, "PAYLOAD_TOO_LARGE")
    assert reply.headers.get("connection") == "close"
    assert sent < DRAIN + 32 * MIB  # socket buffers aside, the server stopped reading
