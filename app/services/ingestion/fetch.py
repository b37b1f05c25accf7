"""Fetching from the outside world, politely and safely.

- **SSRF guard**: the host is resolved here and every address it resolves to must be
  allowed (no loopback, private, unique-local or carrier-grade NAT addresses unless
  INGEST_ALLOW_PRIVATE_NETWORKS=true; link-local, cloud metadata, multicast and reserved
  addresses never). The connection then goes to the address that was checked (the URL's
  host is sent as `Host` and TLS SNI, so certificates are still verified against it), so a
  second DNS answer cannot rebind it; the connected peer is checked again. Redirects are
  followed by hand, each hop checked the same way, at most INGEST_MAX_REDIRECTS.
- **Polite**: robots.txt is read per origin (Protego) and obeyed for our User-Agent; a
  descriptive User-Agent; conditional GET (ETag / Last-Modified); at most
  INGEST_PER_HOST_CONCURRENCY requests to one host at a time from this process.
- **Bounded**: connect/read timeouts and an overall deadline; the body streams into a
  spooled temporary file and the fetch is abandoned the moment it passes INGEST_MAX_BYTES.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import tempfile
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import httpx
import structlog
from protego import Protego

from app.core.config import Settings

log = structlog.get_logger("app.ingestion")

REDIRECTS = frozenset({301, 302, 303, 307, 308})
SPOOL_BYTES = 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
CARRIER_NAT = ipaddress.ip_network("100.64.0.0/10")


class FetchRefused(Exception):
    """The fetch was refused or failed; `code` is stable (run reports show it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Never reachable on the public internet, whatever this Python's `ipaddress` tables say
# (they changed in patch releases): IETF protocol assignments, deprecated site-local IPv6.
SPECIAL = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("fec0::/10"))


def _embedded(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches (mapped, 6to4, Teredo's server)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    return ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)


def address_allowed(address: str, allow_private: bool) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    inner = _embedded(ip)
    if inner is not None and isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        # 6to4 / Teredo: the IPv6 address must be allowed, and so must the IPv4 inside
        if not address_allowed(str(inner), allow_private):
            return False
    elif inner is not None:
        ip = inner
    if any(ip in network for network in SPECIAL if ip.version == network.version):
        return False
    if ip in METADATA_ADDRESSES or ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return False
    if ip.is_loopback or ip.is_private or ip in CARRIER_NAT:
        return allow_private
    return ip.is_global and not ip.is_reserved


async def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; FetchRefused when any address of `host` is not allowed
    (a name with one private address among public ones is refused whole)."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [str(literal)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchRefused("DNS_ERROR", f"{host} does not resolve") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchRefused("DNS_ERROR", f"{host} does not resolve")
    for address in addresses:
        if not address_allowed(address, allow_private):
            raise FetchRefused("BLOCKED_ADDRESS", f"{host} resolves to a refused address")
    return addresses[0]


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""
    body: IO[bytes] | None = None
    size: int = 0

    def close(self) -> None:
        if self.body is not None:
            self.body.close()


_loop_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]]
_loop_slots = weakref.WeakKeyDictionary()


def _host_slot(host: str, size: int) -> asyncio.Semaphore:
    slots = _loop_slots.setdefault(asyncio.get_running_loop(), {})
    if host not in slots:
        slots[host] = asyncio.Semaphore(size)
    return slots[host]


def _check_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchRefused("BAD_URL", "not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchRefused("BAD_URL", "only http and https URLs are fetched")
    return parsed


class Fetcher:
    """One run's fetcher (robots.txt cached per origin for its lifetime)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.allow_private = settings.ingest_allow_private_networks
        self.user_agent = settings.ingest_user_agent
        self.agent_token = self.user_agent.split("/", 1)[0]
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,  # never through a proxy the environment names
            timeout=httpx.Timeout(settings.ingest_timeout_seconds),
            headers={"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._robots: dict[str, Protego | None] = {}

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @asynccontextmanager
    async def _open(
        self, url: httpx.URL, headers: dict[str, str], method: str = "GET"
    ) -> AsyncIterator[httpx.Response]:
        """One request to the checked address of `url` (no redirects followed)."""
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve(host, port, self.allow_private)
        pinned = url.copy_with(host=address)
        extensions: dict[str, Any] = {"sni_hostname": host} if url.scheme == "https" else {}
        request = self.client.build_request(
            method, pinned, headers={**headers, "Host": url.netloc.decode("ascii")}
        )
        request.extensions.update(extensions)
        async with _host_slot(host, self.settings.ingest_per_host_concurrency):
            try:
                response = await self.client.send(request, stream=True)
            except httpx.TimeoutException as exc:
                raise FetchRefused("TIMEOUT", f"{host} did not answer in time") from exc
            except httpx.HTTPError as exc:
                raise FetchRefused("NETWORK_ERROR", f"{host}: {type(exc).__name__}") from exc
            try:
                stream = response.extensions.get("network_stream")
                peer = stream.get_extra_info("server_addr") if stream is not None else None
                if peer and not address_allowed(str(peer[0]), self.allow_private):
                    raise FetchRefused("BLOCKED_ADDRESS", f"{host} connected to a refused address")
                yield response
            finally:
                await response.aclose()

    async def _follow(
        self, url: str, headers: dict[str, str], *, robots: bool
    ) -> AsyncGenerator[tuple[httpx.URL, httpx.Response], None]:
        """Yield each hop's response; the caller stops at the first that is not a redirect."""
        current = _check_url(url)
        for _hop in range(self.settings.ingest_max_redirects + 1):
            if robots:
                await self._obey_robots(current)
            async with self._open(current, headers) as response:
                yield current, response
                if response.status_code not in REDIRECTS:
                    return
                location = response.headers.get("location")
                if not location:
                    raise FetchRefused("BAD_REDIRECT", "a redirect without a Location")
                current = _check_url(urljoin(str(current), location))
                headers = {k: v for k, v in headers.items() if not k.startswith("If-")}
        raise FetchRefused("TOO_MANY_REDIRECTS", "too many redirects")

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """GET `url` into a spooled file. 304 → `not_modified`; other non-2xx → refused."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = self.settings.ingest_timeout_seconds * 3
        try:
            async with asyncio.timeout(deadline):
                return await self._fetch(url, headers)
        except TimeoutError as exc:
            raise FetchRefused("TIMEOUT", "the fetch took too long") from exc

    async def _fetch(self, url: str, headers: dict[str, str]) -> Fetched:
        async with aclosing(self._follow(url, headers, robots=True)) as hops:
            async for final, response in hops:
                if response.status_code in REDIRECTS:
                    continue
                if response.status_code == 304:
                    return Fetched(str(final), 304, not_modified=True)
                if not 200 <= response.status_code < 300:
                    raise FetchRefused("HTTP_ERROR", f"the server answered {response.status_code}")
                body = await self._read(response, self.settings.ingest_max_bytes)
                return Fetched(
                    url=str(final),
                    status=response.status_code,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    content_type=response.headers.get("content-type", ""),
                    body=body,
                    size=body.tell(),
                )
        raise FetchRefused("TOO_MANY_REDIRECTS", "too many redirects")  # pragma: no cover

    async def _read(self, response: httpx.Response, limit: int) -> IO[bytes]:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchRefused("TOO_LARGE", f"the response is larger than {limit} bytes")
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FetchRefused("TOO_LARGE", f"the response is larger than {limit} bytes")
                spool.write(chunk)
        except httpx.HTTPError as exc:
            spool.close()
            raise FetchRefused("NETWORK_ERROR", f"reading failed: {type(exc).__name__}") from exc
        except BaseException:
            spool.close()
            raise
        return spool

    async def _obey_robots(self, url: httpx.URL) -> None:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        if origin not in self._robots:
            self._robots[origin] = await self._load_robots(origin)
        rules = self._robots[origin]
        if rules is None:
            raise FetchRefused("ROBOTS_UNAVAILABLE", f"{origin}/robots.txt could not be read")
        if not rules.can_fetch(str(url), self.agent_token):
            raise FetchRefused("ROBOTS_DISALLOWED", f"robots.txt of {origin} disallows {url.path}")

    async def _load_robots(self, origin: str) -> Protego | None:
        """RFC 9309: a 4xx means no rules (allowed); a 5xx means disallowed; no answer at
        all is that failure's own refusal (DNS_ERROR, TIMEOUT…), so nothing is fetched."""
        try:
            async with aclosing(self._follow(f"{origin}/robots.txt", {}, robots=False)) as hops:
                async for _, response in hops:
                    if response.status_code in REDIRECTS:
                        continue
                    if 400 <= response.status_code < 500:
                        return Protego.parse("")
                    if response.status_code != 200:
                        return None
                    body = await self._read(response, ROBOTS_MAX_BYTES)
                    body.seek(0)
                    text = body.read().decode("utf-8", errors="replace")
                    body.close()
                    return Protego.parse(text)
        except FetchRefused as exc:
            if exc.code == "TOO_LARGE":
                return Protego.parse("")
            raise  # the site is unreachable (or refused): say why, fetch nothing
        return None  # pragma: no cover

    async def probe(self, url: str) -> tuple[int | None, str | None]:
        """For the link check: the final status of `url` (headers only, redirects followed
        and guarded) or (None, reason)."""
        try:
            async with (
                asyncio.timeout(self.settings.ingest_timeout_seconds * 2),
                aclosing(self._follow(url, {}, robots=False)) as hops,
            ):
                async for _, response in hops:
                    if response.status_code not in REDIRECTS:
                        return response.status_code, None
        except TimeoutError:
            return None, "TIMEOUT"
        except FetchRefused as exc:
            return None, exc.code
        return None, "TOO_MANY_REDIRECTS"  # pragma: no cover


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
