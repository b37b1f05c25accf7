"""Refresh-token rotation across tabs: concurrent refreshes with one token both end logged
in (a sibling pair of the same session); a replay after the grace window ends the session."""

from __future__ import annotations

import asyncio

import pytest
from httpx import AsyncClient
from jose import jwt

from app.tests.api.auth_helpers import backdate_rotation, bearer, token_pair
from app.tests.errors import assert_error


async def _refresh(client: AsyncClient, token: str):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_token_responses_are_not_stored(client: AsyncClient) -> None:
    pair = await token_pair(client)
    refreshed = await _refresh(client, pair["refresh_token"])
    form = await client.post(
        "/api/v1/auth/login",
        data={"username": "ada@example.org", "password": "a-long-enough-secret-42"},
    )
    for response in (refreshed, form):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


async def test_two_tabs_refresh_at_once_both_stay_logged_in(client: AsyncClient) -> None:
    pair = await token_pair(client)
    first, second = await asyncio.gather(
        _refresh(client, pair["refresh_token"]), _refresh(client, pair["refresh_token"])
    )
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    a, b = first.json(), second.json()
    claims = [jwt.get_unverified_claims(p["refresh_token"]) for p in (a, b)]
    assert claims[0]["sid"] == claims[1]["sid"]  # the same session
    assert claims[0]["jti"] == claims[1]["jti"]  # siblings: one rotation, shared
    for tab in (a, b):
        me = await client.get("/api/v1/users/me", headers=bearer(tab["access_token"]))
        assert me.status_code == 200
    # Each tab keeps refreshing with what it got (one after the other, then the late one).
    again = await _refresh(client, a["refresh_token"])
    assert again.status_code == 200
    late = await _refresh(client, b["refresh_token"])
    assert late.status_code == 200
    assert (
        await client.get("/api/v1/users/me", headers=bearer(late.json()["access_token"]))
    ).status_code == 200


async def test_many_concurrent_refreshes_all_succeed(client: AsyncClient) -> None:
    pair = await token_pair(client)
    answers = await asyncio.gather(*(_refresh(client, pair["refresh_token"]) for _ in range(5)))
    assert [r.status_code for r in answers] == [200] * 5
    jtis = {jwt.get_unverified_claims(r.json()["refresh_token"])["jti"] for r in answers}
    assert len(jtis) == 1


async def test_replay_after_the_window_revokes_the_session(client: AsyncClient) -> None:
    pair = await token_pair(client)
    first, second = await asyncio.gather(
        _refresh(client, pair["refresh_token"]), _refresh(client, pair["refresh_token"])
    )
    assert first.status_code == second.status_code == 200
    await backdate_rotation(seconds=31)  # the default window is 30 s
    replay = await _refresh(client, pair["refresh_token"])
    assert_error(replay, 401, "INVALID_TOKEN")
    # The whole session is gone: both tabs' tokens, access and refresh.
    for tab in (first.json(), second.json()):
        assert_error(
            await client.get("/api/v1/users/me", headers=bearer(tab["access_token"])),
            401,
            "INVALID_TOKEN",
        )
        assert_error(await _refresh(client, tab["refresh_token"]), 401, "INVALID_TOKEN")


async def test_a_token_two_rotations_old_revokes_even_within_the_window(
    client: AsyncClient,
) -> None:
    pair = await token_pair(client)
    one = (await _refresh(client, pair["refresh_token"])).json()
    two = await _refresh(client, one["refresh_token"])
    assert two.status_code == 200
    replay = await _refresh(client, pair["refresh_token"])  # retired two rotations ago
    assert_error(replay, 401, "INVALID_TOKEN")
    assert_error(
        await client.get("/api/v1/users/me", headers=bearer(two.json()["access_token"])),
        401,
        "INVALID_TOKEN",
    )


@pytest.mark.parametrize("settings_overrides", [{"refresh_reuse_grace_seconds": 0}])
async def test_without_grace_concurrent_reuse_is_theft(client: AsyncClient) -> None:
    pair = await token_pair(client)
    first = await _refresh(client, pair["refresh_token"])
    assert first.status_code == 200
    assert_error(await _refresh(client, pair["refresh_token"]), 401, "INVALID_TOKEN")
    assert_error(
        await client.get("/api/v1/users/me", headers=bearer(first.json()["access_token"])),
        401,
        "INVALID_TOKEN",
    )


async def test_logout_ends_sibling_tabs_too(client: AsyncClient) -> None:
    pair = await token_pair(client)
    a, b = await asyncio.gather(
        _refresh(client, pair["refresh_token"]), _refresh(client, pair["refresh_token"])
    )
    out = await client.post("/api/v1/auth/logout", headers=bearer(a.json()["access_token"]))
    assert out.status_code == 204
    assert_error(await _refresh(client, b.json()["refresh_token"]), 401, "INVALID_TOKEN")
