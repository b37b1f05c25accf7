"""Hostile input over HTTP: whatever a client sends, the answer is a 2xx or a 4xx in the
common error shape — never a 5xx.

The app runs with the demo catalogue plus a few RSVPs, saves and audit entries, so every
list endpoint has several pages. Hypothesis feeds arbitrary cursors, base64 of arbitrary
JSON, structurally valid cursors with wrong members, raw query strings, bearer tokens,
path ids, ETags and JSON bodies. Bounded and reproducible (`derandomize=True`, about
three hundred requests in all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.seed.demo import load_demo
from app.tests.factories import UserWithToken
from app.tests.hostile import assert_answered, b64, raw_get, with_params

API = "/api/v1"
HTTP = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_enabled": False}


@dataclass
class World:
    admin: UserWithToken
    lists: list[str]  # every list endpoint (with each sort), as the admin may read them
    items: list[str]  # single-item GET urls


async def _ids(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
async def world(
    app: FastAPI, client: httpx.AsyncClient, admin: UserWithToken, entrepreneur
) -> World:
    await load_demo(app.state.settings)  # on either backend (the start-up seed is embedded-only)
    h = admin.headers
    events = await _ids(client, f"{API}/events?open_now=true&limit=3", h)
    opportunities = await _ids(client, f"{API}/opportunities?limit=3", h)
    for who in (admin, entrepreneur):
        for event_id in events[:2]:
            rsvp = await client.put(
                f"{API}/events/{event_id}/rsvp", headers=who.headers, json={"status": "going"}
            )
            assert rsvp.status_code in (200, 201), rsvp.text
    for opportunity_id in opportunities[:2]:
        saved = await client.put(f"{API}/opportunities/{opportunity_id}/save", headers=h)
        assert saved.status_code in (200, 201, 204), saved.text
    queue = (await client.get(f"{API}/admin/moderation", headers=h)).json()["items"]
    for entry in queue[:2]:  # two audit entries; the queue keeps the rest
        kind = "opportunities" if entry["kind"] == "opportunity" else "events"
        published = await client.post(f"{API}/{kind}/{entry['id']}/publish", headers=h)
        assert published.status_code == 200, published.text
    event_title = (await client.get(f"{API}/events/{events[0]}", headers=h)).json()["title"]
    org = (await client.get(f"{API}/organisations?limit=1", headers=h)).json()["items"][0]
    lists = [
        f"{API}/opportunities",
        f"{API}/opportunities?sort=newest",
        f"{API}/opportunities?sort=updated",
        f"{API}/opportunities?q=2027",  # relevance
        f"{API}/opportunities?status=draft&sort=newest",  # nullable published_at
        f"{API}/events",
        f"{API}/events?sort=newest",
        f"{API}/events?sort=updated",
        f"{API}/events?q={quote(event_title.split()[-1])}",
        f"{API}/organisations",
        f"{API}/organisations?sort=newest",
        f"{API}/profiles",
        f"{API}/partners",
        f"{API}/admin/users",
        f"{API}/admin/users?sort=email",
        f"{API}/admin/users?sort=created_at",
        f"{API}/admin/audit",
        f"{API}/admin/moderation",
        f"{API}/admin/partners",
        f"{API}/events/{events[0]}/attendees",
        f"{API}/me/opportunities",
        f"{API}/me/events",
    ]
    items = [
        f"{API}/opportunities/{opportunities[0]}",
        f"{API}/events/{events[0]}",
        f"{API}/organisations/{org['id']}",
        f"{API}/admin/users/{admin.id}",
    ]
    return World(admin, lists, items)


async def assert_cursor_refused_or_page(
    client: httpx.AsyncClient, world: World, url: str, cursor: str
) -> None:
    response = await client.get(with_params(url, cursor=cursor), headers=world.admin.headers)
    error = assert_answered(response)
    if error is not None and response.status_code == 400:  # control characters
        assert error["error"]["code"] == "INVALID_QUERY_STRING"
    elif error is not None:
        assert response.status_code == 422
        assert error["error"]["code"] in ("INVALID_CURSOR", "VALIDATION_ERROR")
        assert error["error"]["details"][0]["loc"] == ["query", "cursor"]


# --- every list pages to its end, and its cursors come back in ------------------------------


async def test_every_list_pages_through_with_its_own_cursors(
    client: httpx.AsyncClient, world: World
) -> None:
    """Each list (and sort) walked with limit=1: no repeats, nothing skipped, and every
    cursor the API handed out is accepted back (each sort's value type is declared right)."""
    for url in world.lists:
        total = (
            await client.get(with_params(url, include_total="true"), headers=world.admin.headers)
        ).json()["total"]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            page_url = with_params(url, limit="1", **({"cursor": cursor} if cursor else {}))
            response = await client.get(page_url, headers=world.admin.headers)
            assert response.status_code == 200, (url, response.text)
            page = response.json()
            seen += [item.get("id") or item.get("user_id") or str(item) for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None or len(seen) > total:
                break
        assert total >= 2, url  # so the cursor path really ran
        assert len(seen) == total, url
        assert len(set(seen)) == total, url


# --- cursors --------------------------------------------------------------------------------


@HTTP
@given(index=st.integers(min_value=0, max_value=100), cursor=st.text(max_size=80))
async def test_list_cursor_arbitrary_text(
    client: httpx.AsyncClient, world: World, index: int, cursor: str
) -> None:
    url = world.lists[index % len(world.lists)]
    await assert_cursor_refused_or_page(client, world, url, cursor)


@HTTP
@given(index=st.integers(min_value=0, max_value=100), payload=json_values)
async def test_list_cursor_base64_of_arbitrary_json(
    client: httpx.AsyncClient, world: World, index: int, payload: Any
) -> None:
    url = world.lists[index % len(world.lists)]
    await assert_cursor_refused_or_page(client, world, url, b64(json.dumps(payload).encode()))


@HTTP
@given(
    index=st.integers(min_value=0, max_value=100),
    sort=st.sampled_from(
        ["deadline", "newest", "updated", "relevance", "start", "name", "-at", "queue", "email"]
    ),
    value=json_values,
    doc_id=json_values | st.just("0" * 24) | st.just("f" * 24),
)
async def test_list_cursor_right_shape_wrong_members(
    client: httpx.AsyncClient, world: World, index: int, sort: str, value: Any, doc_id: Any
) -> None:
    url = world.lists[index % len(world.lists)]
    cursor = b64(json.dumps({"s": sort, "v": value, "i": doc_id}).encode())
    await assert_cursor_refused_or_page(client, world, url, cursor)


# --- query strings ------------------------------------------------------------------------


@HTTP
@given(
    index=st.integers(min_value=0, max_value=100),
    raw=st.binary(max_size=120) | st.text(max_size=60).map(str.encode),
)
async def test_list_arbitrary_raw_query_string(
    app: FastAPI, world: World, index: int, raw: bytes
) -> None:
    path = world.lists[index % len(world.lists)].split("?")[0]
    assert_answered(await raw_get(app, path, raw, world.admin.headers))


# --- tokens, ids, ETags -----------------------------------------------------------------------


@HTTP
@given(token=st.binary(max_size=300).filter(lambda b: b"\r" not in b and b"\n" not in b))
async def test_arbitrary_bearer_tokens(
    client: httpx.AsyncClient, world: World, token: bytes
) -> None:
    for url in (f"{API}/users/me", f"{API}/opportunities"):
        response = await client.get(url, headers={b"authorization": b"Bearer " + token})
        error = assert_answered(response)
        if error is not None:
            assert response.status_code == 401


@HTTP
@given(key=st.text(min_size=1, max_size=60), index=st.integers(min_value=0, max_value=100))
async def test_arbitrary_path_ids(
    client: httpx.AsyncClient, world: World, key: str, index: int
) -> None:
    base = world.items[index % len(world.items)].rsplit("/", 1)[0]
    response = await client.get(f"{base}/{quote(key, safe='')}", headers=world.admin.headers)
    error = assert_answered(response)
    if error is not None:
        assert response.status_code in (404, 422)


@HTTP
@given(
    etag=st.text(max_size=40).filter(lambda t: "\r" not in t and "\n" not in t),
    index=st.integers(min_value=0, max_value=100),
)
async def test_arbitrary_etags(
    client: httpx.AsyncClient, world: World, etag: str, index: int
) -> None:
    url = world.items[index % len(world.items)]
    auth = [(k.encode(), v.encode()) for k, v in world.admin.headers.items()]
    read = await client.get(url, headers=[*auth, (b"if-none-match", etag.encode())])
    assert_answered(read)
    write = await client.patch(url, headers=[*auth, (b"if-match", etag.encode())], json={})
    error = assert_answered(write)
    if error is not None:
        assert write.status_code in (404, 405, 412, 422)


# --- JSON bodies -------------------------------------------------------------------------------

BODY_TARGETS = [
    ("POST", f"{API}/organisations"),
    ("POST", f"{API}/opportunities"),
    ("PATCH", f"{API}/users/me"),
    ("POST", f"{API}/auth/login/json"),
    ("POST", f"{API}/auth/refresh"),
]


@HTTP
@given(target=st.sampled_from(BODY_TARGETS), body=json_values)
async def test_arbitrary_json_bodies(
    client: httpx.AsyncClient, world: World, target: tuple[str, str], body: Any
) -> None:
    method, url = target
    response = await client.request(method, url, headers=world.admin.headers, json=body)
    assert_answered(response)


@HTTP
@given(target=st.sampled_from(BODY_TARGETS), body=st.binary(min_size=1, max_size=200))
async def test_arbitrary_body_bytes(
    client: httpx.AsyncClient, world: World, target: tuple[str, str], body: bytes
) -> None:
    method, url = target
    headers = {**world.admin.headers, "content-type": "application/json"}
    response = await client.request(method, url, headers=headers, content=body)
    assert_answered(response)
