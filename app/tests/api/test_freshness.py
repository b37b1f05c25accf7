"""Freshness: the scheduled link check marks items whose link is gone (staff see them in
moderation); links that merely fail are not called gone; past-deadline items read closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.services.ingestion import linkcheck
from app.tasks.ingestion import check_links
from app.tests.factories import make_opportunity, make_org
from app.tests.ingest import server as fixture_server
from app.tests.ingest.helpers import API, OVERRIDES


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return dict(OVERRIDES)


@pytest.fixture
def feeds() -> Iterator[fixture_server.FixtureServer]:
    with fixture_server.running() as state:
        yield state


async def test_gone_links_are_shown_to_staff(client, staff, partner, settings, feeds) -> None:
    org = await make_org(client, partner)
    feeds.put("/calls/live", "<html>open</html>")
    feeds.statuses["/calls/flaky"] = 503
    made = {}
    for name in ("live", "gone", "flaky"):
        made[name] = await make_opportunity(
            client, partner, org["id"], title=f"Call {name}", publish_as=staff,
            application_url=feeds.url(f"/calls/{name}"),
        )  # fmt: skip
    await make_opportunity(
        client,
        partner,
        org["id"],
        title="Draft, not checked",
        application_url=feeds.url("/calls/draft"),
    )

    assert await linkcheck.sweep(settings) == 3
    assert await linkcheck.sweep(settings) == 0  # checked: not again until the interval passes
    assert feeds.requests_to("/calls/draft") == []
    queue = await client.get(
        f"{API}/admin/moderation", headers=staff.headers, params={"moderation": "link"}
    )
    assert queue.status_code == 200
    [entry] = queue.json()["items"]
    assert entry["id"] == made["gone"]["id"]
    assert entry["moderation"] == "link"
    assert entry["link_check"]["status"] == "gone"
    assert entry["link_check"]["http_status"] == 404
    assert_partner = await client.get(
        f"{API}/admin/moderation", headers=partner.headers, params={"moderation": "link"}
    )
    assert assert_partner.status_code == 403


class TestTheScheduledTask:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, object]:
        return {**OVERRIDES, "link_check_interval_hours": 1, "link_check_enabled": True}

    async def test_the_scheduled_task_checks_links(
        self, app, client, staff, partner, feeds
    ) -> None:
        org = await make_org(client, partner)
        item = await make_opportunity(
            client, partner, org["id"], publish_as=staff, application_url=feeds.url("/moved")
        )
        await check_links()
        queue = await client.get(
            f"{API}/admin/moderation", headers=staff.headers, params={"moderation": "link"}
        )
        assert [e["id"] for e in queue.json()["items"]] == [item["id"]]
        assert [s.headers["user-agent"][:13] for s in feeds.requests_to("/moved")] == [
            "RunWeiIngest/"
        ]


async def test_past_deadline_items_read_closed(client, staff, partner) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(
        client, partner, org["id"], publish_as=staff, deadline="2001-01-01T00:00:00Z"
    )
    assert item["status"] == "closed"
    listed = await client.get(f"{API}/opportunities", params={"open_now": "true"})
    assert listed.json()["items"] == []
