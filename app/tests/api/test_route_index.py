"""The route table is flat and matched through an index: for every declared path and method
the index picks the route FastAPI's full scan would pick, and what it does not know goes to
the full scan (404s, routes added later)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient
from starlette.routing import BaseRoute, Match

from app.api.v1.router import KEY_SEGMENTS, RouteIndex


def _first(routes: list[BaseRoute], scope: dict) -> BaseRoute | None:
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _scope(path: str, method: str) -> dict:
    return {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}


def test_the_table_is_flat(app: FastAPI) -> None:
    assert all(type(r).__name__ != "_IncludedRouter" for r in app.router.routes)
    assert isinstance(app.router.middleware_stack, RouteIndex)


def test_the_index_picks_what_the_full_scan_picks(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    index._build()
    checked = 0
    for route in app.router.routes:
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "x1", route.path)
        key = tuple(path.split("/", KEY_SEGMENTS + 1)[1 : KEY_SEGMENTS + 1])
        for method in [*(route.methods or ()), "PUT", "DELETE"]:
            scope = _scope(path, method)
            expected = _first(app.router.routes, scope)
            chosen = _first(index.candidates.get(key, []), scope)
            # What the index does not match goes to the full scan, which finds `expected`.
            assert chosen is expected or chosen is None, (method, path)
            checked += chosen is not None
    assert checked > 200


async def test_unknown_paths_and_methods_answer_as_before(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/opportunities/x1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await client.put("/api/v1/health/live")
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]


async def test_a_route_added_later_is_found(app: FastAPI, client: AsyncClient) -> None:
    assert (await client.get("/api/v1/health/live")).status_code == 200  # index built

    async def extra() -> dict[str, str]:
        return {"extra": "yes"}

    app.add_api_route("/api/v1/health/extra", extra, methods=["GET"])
    response = await client.get("/api/v1/health/extra")
    assert response.status_code == 200
    assert response.json() == {"extra": "yes"}
