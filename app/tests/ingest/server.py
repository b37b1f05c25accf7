"""A local HTTP server for ingestion tests: realistic fixture files, and hostile answers
(a 50 MB feed generated on the fly, redirects to a metadata address, robots.txt rules).
It records each request (path and headers) so tests can check what the fetcher sent."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
TYPES = {
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".ics": "text/calendar",
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv",
}
HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class FixtureServer:
    port: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    huge_bytes_sent: int = 0
    active: int = 0  # /slow/ requests being worked on now, and the most at once
    most_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, path: str, body: bytes | str) -> str:
        self.files[path] = body.encode() if isinstance(body, str) else body
        return self.url(path)

    def put_fixture(self, name: str, path: str | None = None) -> str:
        return self.put(path or f"/{name}", (FIXTURES / name).read_bytes())

    def requests_to(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]


def _handler(server: FixtureServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def _send(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            server.seen.append(Seen(path, {k.lower(): v for k, v in self.headers.items()}))
            self._answer(path)

        def _answer(self, path: str) -> None:
            if path.startswith("/slow/"):
                # Counted until the answer is written, not after: once the client has it,
                # it may start the next request before this thread gets to run again.
                with server.lock:
                    server.active += 1
                    server.most_active = max(server.most_active, server.active)
                try:
                    time.sleep(0.3)
                finally:
                    with server.lock:
                        server.active -= 1
            if path in server.statuses:
                return self._send(server.statuses[path])
            if path == "/robots.txt":
                return self._send(200, ROBOTS, {"Content-Type": "text/plain"})
            if path == "/redirect-metadata":
                return self._send(
                    302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
                )
            if path == "/redirect-loop":
                return self._send(302, headers={"Location": "/redirect-loop"})
            if path == "/huge.rss":
                return self._huge()
            body = server.files.get(path)
            if body is None:
                return self._send(404, b"not found")
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                return self._send(304, headers={"ETag": etag})
            suffix = Path(path).suffix
            return self._send(
                200,
                body,
                {"Content-Type": TYPES.get(suffix, "application/octet-stream"), "ETag": etag},
            )

        def _huge(self) -> None:
            """A 50 MB RSS feed, generated as it is sent (chunked, no length announced)."""
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            item = (
                b"<item><title>Spam</title><description>" + b"x" * 4000 + b"</description></item>"
            )
            chunks = [b'<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>']
            sent = 0
            try:
                while sent < HUGE_BYTES:
                    chunk = chunks.pop() if chunks else item * 16
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    sent += len(chunk)
                    server.huge_bytes_sent = sent
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


@contextmanager
def running() -> Iterator[FixtureServer]:
    state = FixtureServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
