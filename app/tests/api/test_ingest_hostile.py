"""Hostile sources: entity expansion and external entities, a 50 MB feed, redirects to a
metadata address or in circles, robots.txt that says no, private addresses, bad answers.
Each is a failed run with a stable code; nothing reaches the catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from app.services.ingestion.fetch import FetchRefused, address_allowed, resolve
from app.tests.conftest import make_settings
from app.tests.factories import make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import OVERRIDES, items, make_source, run_now


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


async def _failed(client, staff, feeds, path: str, **fields) -> dict:
    org = await make_org(client, staff)
    source = await make_source(client, staff, org["id"], feeds.url(path), **fields)
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "failed", run
    assert await items(client, staff, "opportunities") == []
    return run


async def test_entity_expansion_is_refused(client, staff, feeds) -> None:
    feeds.put_fixture("billion-laughs.xml", "/laughs.rss")
    run = await _failed(client, staff, feeds, "/laughs.rss")
    assert run["error"].startswith("XML_REFUSED")


async def test_external_entities_are_refused(client, staff, feeds) -> None:
    feeds.put_fixture("xxe.xml", "/extract.xml")
    run = await _failed(client, staff, feeds, "/extract.xml", kind="grants_gov")
    assert run["error"].startswith("XML_REFUSED")


async def test_a_50_mb_feed_is_abandoned_at_the_cap(client, staff, feeds, settings) -> None:
    run = await _failed(client, staff, feeds, "/huge.rss")
    assert run["error"].startswith("TOO_LARGE")
    # the fetch stopped reading soon after the cap instead of taking all 50 MB
    assert feeds.huge_bytes_sent < fixture_server.HUGE_BYTES
    assert settings.ingest_max_bytes < fixture_server.HUGE_BYTES


async def test_a_redirect_to_a_metadata_address_is_refused(client, staff, feeds) -> None:
    run = await _failed(client, staff, feeds, "/redirect-metadata")
    assert run["error"].startswith("BLOCKED_ADDRESS")


async def test_redirects_are_limited(client, staff, feeds) -> None:
    run = await _failed(client, staff, feeds, "/redirect-loop")
    assert run["error"].startswith("TOO_MANY_REDIRECTS")
    assert len(feeds.requests_to("/redirect-loop")) == 6  # the first + INGEST_MAX_REDIRECTS


async def test_robots_txt_is_obeyed(client, staff, feeds) -> None:
    feeds.put_fixture("grants-feed.rss", "/private/feed.rss")
    run = await _failed(client, staff, feeds, "/private/feed.rss")
    assert run["error"].startswith("ROBOTS_DISALLOWED")
    assert feeds.requests_to("/private/feed.rss") == []


async def test_server_errors_and_missing_feeds(client, staff, feeds) -> None:
    feeds.statuses["/broken.rss"] = 500
    assert (await _failed(client, staff, feeds, "/broken.rss"))["error"].startswith("HTTP_ERROR")
    assert (await _failed(client, staff, feeds, "/nothing.rss"))["error"].startswith("HTTP_ERROR")


async def test_malformed_calendar_is_a_failed_run(client, staff, feeds) -> None:
    feeds.put("/bad.ics", "BEGIN:VCALENDAR\nthis is not a calendar\n")
    run = await _failed(
        client, staff, feeds, "/bad.ics", kind="ical", target="event", defaults={"type": "workshop"}
    )
    assert run["error"].startswith("ICAL_MALFORMED")


class TestPrivateNetworksRefused:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {**OVERRIDES, "ingest_allow_private_networks": False}

    async def test_loopback_source_is_never_contacted(self, client, staff, feeds) -> None:
        feeds.put_fixture("grants-feed.rss")
        org = await make_org(client, staff)
        source = await make_source(client, staff, org["id"], feeds.url("/grants-feed.rss"))
        run = await run_now(client, staff, source["id"])
        assert run["status"] == "failed"
        assert run["error"].startswith("BLOCKED_ADDRESS")
        assert feeds.seen == []


def test_production_refuses_private_networks() -> None:
    production = {
        "environment": "production",
        "secret_key": "x" * 40,
        "mongodb_url": "mongodb://db.example.org/runwei",
        "public_base_url": "https://api.example.org",
    }
    make_settings(**production)  # fine without the flag
    with pytest.raises(ValidationError, match="INGEST_ALLOW_PRIVATE_NETWORKS"):
        make_settings(**production, ingest_allow_private_networks=True)


@pytest.mark.parametrize(
    ("address", "allow_private", "allowed"),
    [
        ("93.184.216.34", False, True),
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("10.1.2.3", False, False),
        ("192.168.0.10", False, False),
        ("172.20.0.1", True, True),
        ("100.64.0.1", False, False),
        ("169.254.169.254", True, False),  # cloud metadata: never
        ("169.254.10.1", True, False),  # link-local: never
        ("::1", False, False),
        ("::ffff:127.0.0.1", False, False),
        ("fd00:ec2::254", True, False),
        ("fc00::1", False, False),
        ("0.0.0.0", True, False),  # noqa: S104 - an address under test
        ("224.0.0.1", True, False),
        ("2606:4700:4700::1111", False, True),
        # IPv4 inside IPv6 (6to4) reaches that IPv4: judged by it
        ("2002:7f00:1::1", False, False),
        ("2002:a9fe:a9fe::1", True, False),
        ("2002:5db8:d822::1", False, True),
        ("fec0::1", True, False),  # site-local (deprecated, still routed inside networks)
        ("192.0.0.8", True, False),  # IETF protocol assignments
    ],
)
def test_address_rules(address: str, allow_private: bool, allowed: bool) -> None:
    assert address_allowed(address, allow_private) is allowed


async def test_names_are_resolved_and_checked() -> None:
    with pytest.raises(FetchRefused) as refused:
        await resolve("localhost", 80, allow_private=False)
    assert refused.value.code == "BLOCKED_ADDRESS"
    with pytest.raises(FetchRefused) as missing:
        await resolve("no-such-host.invalid", 80, allow_private=False)
    assert missing.value.code == "DNS_ERROR"
    assert await resolve("[::1]", 80, allow_private=True) == "::1"


async def test_an_unknown_host_is_a_dns_error(client, staff, feeds) -> None:
    org = await make_org(client, staff)
    source = await make_source(client, staff, org["id"], "http://no-such-host.invalid/feed.rss")
    run = await run_now(client, staff, source["id"])
    assert run["status"] == "failed"
    assert run["error"].startswith("DNS_ERROR")


async def test_robots_txt_that_fails_means_disallowed(client, staff, feeds) -> None:
    feeds.statuses["/robots.txt"] = 503
    feeds.put_fixture("grants-feed.rss")
    run = await _failed(client, staff, feeds, "/grants-feed.rss")
    assert run["error"].startswith("ROBOTS_UNAVAILABLE")
    assert feeds.requests_to("/grants-feed.rss") == []
