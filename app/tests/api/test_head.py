"""HEAD works wherever Allow lists it: found by attacking the running app — every GET
route answered HEAD with 405 while the 405's own Allow header listed HEAD.

Both tests walk the app's route table (the OpenAPI paths plus the docs routes), so a route
added later is covered without touching this file.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.tests.errors import assert_error
from app.tests.factories import UserWithToken, make_event, make_opportunity, make_org

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
VOLATILE = {"x-request-id", "date"}  # differ between any two requests


def route_table(app: FastAPI) -> dict[str, set[str]]:
    """path template → methods, for every route the app serves."""
    table: dict[str, set[str]] = {}
    for path, item in app.openapi()["paths"].items():
        table[path] = {method.upper() for method in item}
    for route in app.routes:  # routes outside the spec (docs, the spec itself)
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path and methods and "{" not in path:
            table.setdefault(path, set()).update(methods)
    return table


@pytest.fixture
async def concrete(client: httpx.AsyncClient, admin: UserWithToken, staff) -> dict[str, str]:
    """Real values for path parameters, so most GETs answer 200 rather than 404."""
    org = await make_org(client, admin)
    opportunity = await make_opportunity(client, admin, org["id"], publish_as=staff)
    event = await make_event(client, admin, org["id"], publish_as=staff)
    return {
        "organisation_id": org["id"],
        "opportunity_id": opportunity["id"],
        "event_id": event["id"],
        "user_id": admin.id,
        "kind": "tags",
        "profile_id": "000000000000000000000000",
        "partner_id": "000000000000000000000000",
        "media_id": "000000000000000000000000",
        "slug": "funding",
    }


def concrete_path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x"), template)


def comparable(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.headers.items() if k not in VOLATILE}


async def test_every_get_route_answers_head_like_get(
    app: FastAPI, client: httpx.AsyncClient, admin: UserWithToken, concrete: dict[str, str]
) -> None:
    checked = 0
    for template, methods in route_table(app).items():
        if "GET" not in methods:
            continue
        path = concrete_path(template, concrete)
        for headers in (admin.headers, {}):  # as a signed-in caller and anonymously
            get = await client.get(path, headers=headers)
            head = await client.head(path, headers=headers)
            assert head.status_code == get.status_code, (template, head.text)
            assert head.content == b"", template
            assert comparable(head) == comparable(get), template
            checked += 1
    assert checked >= 2 * 29  # the whole table, as a signed-in caller and anonymously


async def test_allow_lists_exactly_the_methods_that_work(
    app: FastAPI, client: httpx.AsyncClient, admin: UserWithToken, concrete: dict[str, str]
) -> None:
    """For every path: a method the Allow header lists is never answered 405, one it does
    not list always is — HEAD included, and HEAD is listed wherever GET is."""
    walked = 0
    for template, methods in route_table(app).items():
        missing = [m for m in METHODS if m not in methods and m != "HEAD"]
        if not missing:
            continue
        path = concrete_path(template, concrete)
        refused = await client.request(missing[0], path, headers=admin.headers)
        assert_error(refused, 405, "METHOD_NOT_ALLOWED")
        allowed = set(refused.headers["allow"].split(", "))
        assert methods - {"OPTIONS"} <= allowed, template
        assert ("HEAD" in allowed) == ("GET" in allowed), template
        for method in METHODS:
            response = await client.request(method, path, headers=admin.headers)
            assert (response.status_code == 405) == (method not in allowed), (template, method)
        walked += 1
    assert walked >= 20


async def test_head_on_a_list_keeps_etag_and_length(
    client: httpx.AsyncClient, concrete: dict[str, str]
) -> None:
    url = f"/api/v1/opportunities/{concrete['opportunity_id']}"
    get, head = await client.get(url), await client.head(url)
    assert head.status_code == 200
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))
    not_modified = await client.head(url, headers={"If-None-Match": get.headers["etag"]})
    assert (
        not_modified.status_code
        == (await client.get(url, headers={"If-None-Match": get.headers["etag"]})).status_code
    )
