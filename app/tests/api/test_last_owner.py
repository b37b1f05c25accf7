"""The last-owner guard under concurrency: removing or demoting owners at the same moment
never leaves an organisation without an owner.

The embedded backend runs each database call without yielding, so concurrent requests rarely
interleave on their own. `interleaved_writes` makes them: every write to the organisations
collection waits until all the concurrent requests have reached their write, so each of
them has read the organisation before any of them writes — exactly the interleaving that
defeats a check-then-set guard. (On a real MongoDB the same tests run without help.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from beanie import PydanticObjectId
from httpx import AsyncClient

from app.models.organisation import Organisation
from app.tests.factories import add_member, make_org

API = "/api/v1"
WRITES = ("update_one", "find_one_and_update", "update_many", "replace_one")


@pytest.fixture
def interleaved_writes(app, monkeypatch) -> Callable[[int], None]:
    def arm(parties: int) -> None:
        collection = Organisation.get_motor_collection()
        arrived = 0
        everyone_read = asyncio.Event()

        def hold(original: Callable[..., Any]) -> Callable[..., Any]:
            async def write(*args: Any, **kwargs: Any) -> Any:
                nonlocal arrived
                arrived += 1
                if arrived >= parties:
                    everyone_read.set()
                # Fewer writers than expected must not deadlock the test.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(everyone_read.wait(), timeout=2)
                return await original(*args, **kwargs)

            return write

        for name in WRITES:
            monkeypatch.setattr(collection, name, hold(getattr(collection, name)))

    return arm


async def owners(org_id: str) -> list[str]:
    org = await Organisation.get(PydanticObjectId(org_id))
    assert org is not None
    return [str(m.user_id) for m in org.members if m.role.value == "owner"]


async def org_with_owners(client: AsyncClient, founder, make_user, extra: int) -> tuple[dict, list]:
    org = await make_org(client, founder)
    others = [await make_user(role="partner") for _ in range(extra)]
    for user in others:
        await add_member(client, founder, org["id"], user, "owner")
    return org, [founder, *others]


def member_url(org: dict, user) -> str:
    return f"{API}/organisations/{org['id']}/members/{user.id}"


async def test_two_owners_removing_each_other(
    client: AsyncClient, partner, make_user, interleaved_writes
) -> None:
    org, (a, b) = await org_with_owners(client, partner, make_user, 1)
    interleaved_writes(2)
    answers = await asyncio.gather(
        client.delete(member_url(org, b), headers=a.headers),
        client.delete(member_url(org, a), headers=b.headers),
    )
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert [r.json()["error"]["code"] for r in answers if r.status_code == 409] == ["LAST_OWNER"]
    assert len(await owners(org["id"])) == 1


async def test_two_owners_leaving_at_once(
    client: AsyncClient, partner, make_user, interleaved_writes
) -> None:
    org, (a, b) = await org_with_owners(client, partner, make_user, 1)
    interleaved_writes(2)
    answers = await asyncio.gather(
        client.delete(member_url(org, a), headers=a.headers),
        client.delete(member_url(org, b), headers=b.headers),
    )
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert len(await owners(org["id"])) == 1


async def test_two_owners_demoting_themselves_at_once(
    client: AsyncClient, partner, make_user, interleaved_writes
) -> None:
    org, (a, b) = await org_with_owners(client, partner, make_user, 1)
    interleaved_writes(2)
    answers = await asyncio.gather(
        client.patch(member_url(org, a), headers=a.headers, json={"role": "editor"}),
        client.patch(member_url(org, b), headers=b.headers, json={"role": "editor"}),
    )
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert len(await owners(org["id"])) == 1


async def test_demote_and_remove_at_once(
    client: AsyncClient, partner, make_user, interleaved_writes
) -> None:
    org, (a, b) = await org_with_owners(client, partner, make_user, 1)
    interleaved_writes(2)
    answers = await asyncio.gather(
        client.patch(member_url(org, b), headers=a.headers, json={"role": "editor"}),
        client.delete(member_url(org, a), headers=b.headers),
    )
    assert sorted(r.status_code for r in answers) == [200, 409]
    assert len(await owners(org["id"])) == 1


async def test_staff_removing_three_owners_at_once(
    client: AsyncClient, partner, make_user, staff, interleaved_writes
) -> None:
    org, everyone = await org_with_owners(client, partner, make_user, 2)
    interleaved_writes(3)
    answers = await asyncio.gather(
        *(client.delete(member_url(org, u), headers=staff.headers) for u in everyone)
    )
    assert sorted(r.status_code for r in answers) == [200, 200, 409]
    assert len(await owners(org["id"])) == 1


async def test_editors_leave_freely_while_owners_stay(
    client: AsyncClient, partner, make_user, interleaved_writes
) -> None:
    """The guard is about owners: editors leaving together all succeed."""
    org = await make_org(client, partner)
    editors = [await make_user(role="partner") for _ in range(3)]
    for user in editors:
        await add_member(client, partner, org["id"], user, "editor")
    interleaved_writes(3)
    answers = await asyncio.gather(
        *(client.delete(member_url(org, u), headers=u.headers) for u in editors)
    )
    assert [r.status_code for r in answers] == [200, 200, 200]
    fresh = await Organisation.get(PydanticObjectId(org["id"]))
    assert [str(m.user_id) for m in fresh.members] == [partner.id]
