"""Every list endpoint of the route table, attacked through every parameter of its query
model (hypothesis): whatever the values, the answer is a 2xx or a 4xx in the common error
shape — never a 5xx.

The lists are found in the app's route table (a GET route taking a `PageQuery` model), so a
list added later is attacked without touching this file. Each parameter gets values built
from its declared type — date-times at the edges of what Python can represent and with
extreme offsets, integers and floats out of range or not numbers at all, closed sets with
near-miss values, repeated and comma-separated lists — plus arbitrary text. Cursors come
back in as well: real ones from another sort or list, and ones carrying date-times at those
edges.

Found by this test: `?updated_since=0001-01-01T00:00:00+14:00` (and the same value inside
a cursor) overflowed Python's datetime when converted to UTC — a 500.
"""

from __future__ import annotations

import json
import types
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

from app.schemas.query import PageQuery
from app.tests.factories import UserWithToken, make_event, make_opportunity, make_org
from app.tests.hostile import assert_answered, b64

API = "/api/v1"
HTTP = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Date-times a client might send: ordinary ones, the edges of Python's datetime, offsets
# that push them past those edges in UTC, and near-misses of the ISO format.
EDGE_DATETIMES = [
    "2026-05-06T07:08:09Z",
    "2026-05-06T07:08:09+05:30",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "2026-05-06T07:08:09+24:00",
    "2026-02-30T00:00:00Z",
    "2026-05-06",
    "2026-05-06T07:08:09",
    "1e20",
    "-1",
    "now",
]
datetimes = st.sampled_from(EDGE_DATETIMES) | st.datetimes(
    timezones=st.timezones() | st.none()
).map(datetime.isoformat)
numbers = st.sampled_from(
    ["0", "-1", "1e3", "nan", "inf", "-inf", "1.5", "99999999999999999999999", "9" * 400, "0x10"]
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)
texts = st.text(max_size=40)
DATETIME_TYPES = (datetime, AwareDatetime)


def _base(annotation: Any) -> Any:
    """The type under Optional / Annotated (first non-None member)."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            annotation = members[0]
        else:
            return annotation


def values_for(annotation: Any) -> st.SearchStrategy[str]:
    """Strings to send for a parameter of this declared type."""
    base = _base(annotation)
    origin = get_origin(base)
    if origin is list:
        item = values_for(get_args(base)[0])
        return st.lists(item, max_size=4).map(",".join) | texts
    if origin is Literal:
        options = [str(o) for o in get_args(base)]
        near = st.sampled_from(options).map(lambda o: o.upper() + " ")
        return st.sampled_from(options) | near | texts
    if base in DATETIME_TYPES:
        return datetimes
    if base is bool:
        return st.sampled_from(["true", "false", "1", "0", "yes", "maybe", ""]) | texts
    if base in (int, float):
        return numbers | texts
    return texts


@dataclass
class ListRoute:
    path: str  # concrete: path parameters filled in
    params: dict[str, st.SearchStrategy[str]]
    datetime_params: list[str]


def list_routes(app: FastAPI) -> dict[str, tuple[APIRoute, type[PageQuery]]]:
    """Every GET route whose parameters are a query model based on PageQuery."""
    found: dict[str, tuple[APIRoute, type[PageQuery]]] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
            continue
        for param in route.dependant.query_params:
            model = param.field_info.annotation
            if isinstance(model, type) and issubclass(model, PageQuery):
                found[str(context.path)] = (route, model)
    return found


def query_fields(model: type[BaseModel]) -> dict[str, st.SearchStrategy[str]]:
    return {
        info.alias or name: values_for(info.annotation) for name, info in model.model_fields.items()
    }


def datetime_fields(model: type[BaseModel]) -> list[str]:
    return [
        info.alias or name
        for name, info in model.model_fields.items()
        if _base(info.annotation) in DATETIME_TYPES
    ]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"seed_demo_data": True, "rate_limit_enabled": False}


@dataclass
class World:
    admin: UserWithToken
    routes: list[ListRoute]
    cursors: list[str]  # real cursors handed out by every list


@pytest.fixture
async def world(app: FastAPI, client: httpx.AsyncClient, admin: UserWithToken) -> World:
    org = await make_org(client, admin)
    event = await make_event(client, admin, org["id"], publish_as=admin)
    opportunity = await make_opportunity(client, admin, org["id"], publish_as=admin)
    rsvp = await client.put(f"{API}/events/{event['id']}/rsvp", headers=admin.headers, json={})
    assert rsvp.status_code in (200, 201), rsvp.text
    saved = await client.post(
        f"{API}/me/saved-searches",
        headers=admin.headers,
        json={"name": "All events", "kind": "event", "query": {}},
    )
    assert saved.status_code == 201, saved.text
    source = await client.post(
        f"{API}/admin/sources",
        headers=admin.headers,
        json={
            "name": "A feed",
            "kind": "feed",
            "target": "opportunity",
            "url": "https://feeds.example.org/grants.xml",
            "organisation_id": org["id"],
            "enabled": False,
        },
    )
    assert source.status_code == 201, source.text
    values = {
        "source_id": source.json()["id"],
        "event_id": event["id"],
        "opportunity_id": opportunity["id"],
        "organisation_id": org["id"],
        "search_id": saved.json()["id"],
    }
    routes: list[ListRoute] = []
    for path, (_, model) in sorted(list_routes(app).items()):
        concrete = path
        for name, value in values.items():
            concrete = concrete.replace("{" + name + "}", value)
        assert "{" not in concrete, f"give a value for the path parameters of {path}"
        routes.append(ListRoute(concrete, query_fields(model), datetime_fields(model)))
    cursors: list[str] = []
    for route in routes:
        if route.path.endswith((".csv", ".jsonl")):  # exports stream every match: no paging
            export = await client.get(route.path, headers=admin.headers)
            assert export.status_code == 200, (route.path, export.text)
            continue
        page = await client.get(f"{route.path}?limit=1", headers=admin.headers)
        assert page.status_code == 200, (route.path, page.text)
        if page.json().get("next_cursor"):
            cursors.append(page.json()["next_cursor"])
    return World(admin, routes, cursors)


async def test_the_lists_are_found(app: FastAPI, world: World) -> None:
    """Discovery works: the lists we know of are among those the route table gives (and
    several of them hand out cursors, so cursors from one list reach another below)."""
    found = set(list_routes(app))
    known = {
        f"{API}/opportunities",
        f"{API}/events",
        f"{API}/events/{{event_id}}/attendees",
        f"{API}/events/{{event_id}}/similar",
        f"{API}/opportunities/{{opportunity_id}}/similar",
        f"{API}/me/recommendations/opportunities",
        f"{API}/me/recommendations/events",
        f"{API}/me/opportunities",
        f"{API}/me/events",
        f"{API}/me/invitations",
        f"{API}/organisations",
        f"{API}/organisations/{{organisation_id}}/invitations",
        f"{API}/profiles",
        f"{API}/partners",
        f"{API}/admin/users",
        f"{API}/admin/audit",
        f"{API}/admin/moderation",
        f"{API}/admin/partners",
    }
    assert known <= found, sorted(known - found)
    assert len(world.cursors) >= 5


async def test_every_date_time_parameter_at_the_edges(
    client: httpx.AsyncClient, world: World
) -> None:
    """Each date-time parameter of each list, with each edge value: a page or a 422."""
    checked = 0
    for route in world.routes:
        for name in route.datetime_params:
            for value in EDGE_DATETIMES:
                response = await client.get(
                    f"{route.path}?{name}={quote(value)}", headers=world.admin.headers
                )
                error = assert_answered(response)
                assert error is None or response.status_code == 422, (name, value, error)
                checked += 1
    assert checked >= 5 * len(EDGE_DATETIMES)  # updated_since, deadlines, starts, audit times


@HTTP
@given(data=st.data())
async def test_every_list_parameter_takes_anything(
    client: httpx.AsyncClient, world: World, data: st.DataObject
) -> None:
    """One to three parameters of one list, each with a value from its declared type."""
    route = data.draw(st.sampled_from(world.routes), label="list")
    names = data.draw(
        st.lists(st.sampled_from(sorted(route.params)), min_size=1, max_size=3, unique=True),
        label="parameters",
    )
    query = "&".join(
        f"{name}={quote(data.draw(route.params[name], label=name), safe=',')}" for name in names
    )
    response = await client.get(f"{route.path}?{query}", headers=world.admin.headers)
    assert_answered(response)


@HTTP
@given(data=st.data())
async def test_cursors_from_elsewhere_and_at_the_edges(
    client: httpx.AsyncClient, world: World, data: st.DataObject
) -> None:
    """A real cursor of another list or sort, or one carrying an edge date-time, on any
    list: a page or 422 INVALID_CURSOR, never a 5xx."""
    pageable = [r for r in world.routes if not r.path.endswith((".csv", ".jsonl"))]
    route = data.draw(st.sampled_from(pageable), label="list")
    real = st.sampled_from(world.cursors)
    sort = st.sampled_from(["updated", "newest", "deadline", "start", "queue", "-at", "name"])
    edge = st.builds(
        lambda s, v, i: b64(json.dumps({"s": s, "v": v, "i": i}).encode()),
        sort,
        datetimes,
        st.just("0" * 24) | st.just("f" * 24),
    )
    cursor = data.draw(real | edge, label="cursor")
    response = await client.get(f"{route.path}?cursor={quote(cursor)}", headers=world.admin.headers)
    error = assert_answered(response)
    if error is not None:
        assert response.status_code == 422
        assert error["error"]["code"] == "INVALID_CURSOR"
