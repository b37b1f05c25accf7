"""The daily invitation quota under concurrency: invitations e-mail arbitrary addresses, so an
organisation sends at most INVITATIONS_PER_ORGANISATION_PER_DAY of them in 24 hours — also
when they are sent all at once.

Found in the audit: the quota was a count of the last day's invitations followed by the
insert, so concurrent invitations all passed the count (its docstring said "may overshoot
by a few"; on a real MongoDB, as many as arrive together). Now a place is taken by one
conditional update before the invitation is stored. The embedded backend does not yield
inside a database call, so `held_inserts` makes every request read before any stores —
the interleaving that defeated the count.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from httpx import AsyncClient

from app.models.invitation import Invitation
from app.tests.errors import assert_error
from app.tests.factories import UserWithToken, make_org

API = "/api/v1"
QUOTA = 3


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"invitations_per_organisation_per_day": QUOTA}


@pytest.fixture
def held_inserts(app, monkeypatch) -> Callable[[int], None]:
    """Every invitation insert waits until `parties` requests have reached theirs."""

    def arm(parties: int) -> None:
        collection = Invitation.get_motor_collection()
        original = collection.insert_one
        arrived = 0
        everyone = asyncio.Event()

        async def insert_one(*args: Any, **kwargs: Any) -> Any:
            nonlocal arrived
            arrived += 1
            if arrived >= parties:
                everyone.set()
            with contextlib.suppress(TimeoutError):  # fewer arrivals must not hang the test
                await asyncio.wait_for(everyone.wait(), timeout=2)
            return await original(*args, **kwargs)

        monkeypatch.setattr(collection, "insert_one", insert_one)

    return arm


async def invite(client: AsyncClient, owner: UserWithToken, org_id: str, address: str) -> Any:
    return await client.post(
        f"{API}/organisations/{org_id}/invitations",
        headers=owner.headers,
        json={"email": address, "role": "editor"},
    )


async def test_concurrent_invitations_do_not_overshoot_the_quota(
    client: AsyncClient, partner: UserWithToken, held_inserts: Callable[[int], None]
) -> None:
    org = await make_org(client, partner)
    burst = 8
    held_inserts(burst)
    answers = await asyncio.gather(
        *(invite(client, partner, org["id"], f"p{n}@example.org") for n in range(burst))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * QUOTA + [429] * (burst - QUOTA)
    assert await Invitation.find({"organisation_id": org["id"]}).count() <= QUOTA
    for refused in (a for a in answers if a.status_code == 429):
        assert_error(refused, 429, "INVITATION_LIMIT")


async def test_a_refused_invitation_does_not_use_a_place(
    client: AsyncClient, partner: UserWithToken
) -> None:
    """Already pending (409): no e-mail is sent, so no place is taken."""
    org = await make_org(client, partner)
    assert (await invite(client, partner, org["id"], "a@example.org")).status_code == 201
    for _ in range(3):
        again = await invite(client, partner, org["id"], "a@example.org")
        assert_error(again, 409, "INVITATION_PENDING")
    for address in ("b@example.org", "c@example.org"):
        assert (await invite(client, partner, org["id"], address)).status_code == 201
    assert_error(await invite(client, partner, org["id"], "d@example.org"), 429, "INVITATION_LIMIT")
