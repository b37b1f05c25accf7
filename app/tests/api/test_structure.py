"""The structure's promises, checked on the route table: every list takes one query model
and refuses what it does not know; upload routes are marked at the route, and the body
limit skips exactly those; no endpoint builds the caller's viewer itself."""

from __future__ import annotations

import inspect
import re

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient
from pydantic import BaseModel

from app.api.uploads import UploadRoute, upload_path_pattern
from app.api.v1 import endpoints
from app.tests.errors import assert_error

UPLOADS = {
    "/api/v1/media",
    "/api/v1/profiles/me/avatar",
    "/api/v1/organisations/{organisation_id}/logo",
    "/api/v1/opportunities/{opportunity_id}/cover",
    "/api/v1/events/{event_id}/cover",
    "/api/v1/admin/imports",
}
LISTS = {
    "/api/v1/opportunities",
    "/api/v1/events",
    "/api/v1/events/{event_id}/attendees",
    "/api/v1/organisations",
    "/api/v1/organisations/{organisation_id}/invitations",
    "/api/v1/profiles",
    "/api/v1/partners",
    "/api/v1/me/opportunities",
    "/api/v1/me/events",
    "/api/v1/me/invitations",
    "/api/v1/me/dismissed",
    "/api/v1/notifications",
    "/api/v1/me/saved-searches",
    "/api/v1/me/saved-searches/{search_id}/matches",
    "/api/v1/me/recommendations/opportunities",
    "/api/v1/me/recommendations/events",
    "/api/v1/opportunities/{opportunity_id}/similar",
    "/api/v1/events/{event_id}/similar",
    "/api/v1/admin/users",
    "/api/v1/admin/audit",
    "/api/v1/admin/moderation",
    "/api/v1/admin/partners",
    "/api/v1/admin/sources",
    "/api/v1/admin/sources/{source_id}/runs",
    "/api/v1/admin/duplicates",
    "/api/v1/admin/exports/opportunities.csv",
    "/api/v1/admin/exports/opportunities.jsonl",
    "/api/v1/admin/exports/events.csv",
    "/api/v1/admin/exports/events.jsonl",
}


def _query_model_routes(app: FastAPI) -> dict[str, APIRoute]:
    found: dict[str, APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or "GET" not in (context.methods or set()):
            continue
        models = [
            p.field_info.annotation
            for p in route.dependant.query_params
            if isinstance(p.field_info.annotation, type)
            and issubclass(p.field_info.annotation, BaseModel)
        ]
        if models:
            found[str(context.path)] = route
    return found


def test_upload_routes_are_marked_and_only_they_skip_the_body_limit(app: FastAPI) -> None:
    marked = {
        str(c.path)
        for c in iter_route_contexts(app.routes)
        if isinstance(c.original_route, UploadRoute)
    }
    assert marked == UPLOADS
    pattern = upload_path_pattern(app.routes)
    assert pattern is not None
    for path in UPLOADS:
        assert pattern.fullmatch(re.sub(r"\{[^}]+\}", "64b7f0c2a1b2c3d4e5f60718", path))
    for path in ("/api/v1/media/x", "/api/v1/events/x", "/api/v1/events/x/cover/y", "/api/v1/x"):
        assert not pattern.fullmatch(path), path


def test_every_list_takes_one_query_model(app: FastAPI) -> None:
    assert set(_query_model_routes(app)) == LISTS


async def test_every_list_refuses_unknown_parameters(
    app: FastAPI, client: AsyncClient, admin
) -> None:
    for path in sorted(LISTS):
        url = re.sub(r"\{[^}]+\}", "64b7f0c2a1b2c3d4e5f60718", path)
        response = await client.get(url, headers=admin.headers, params={"bogus": "1"})
        body = assert_error(response, 422, "VALIDATION_ERROR")
        assert {"loc": ["query", "bogus"], "type": "extra_forbidden"}.items() <= (
            body["error"]["details"][0].items()
        ), path


def test_no_endpoint_builds_a_viewer() -> None:
    """The caller reaches services as a dependency (`ViewerDep`, `SignedInViewer`)."""
    import importlib
    import pkgutil

    for module_info in pkgutil.iter_modules(endpoints.__path__):
        module = importlib.import_module(f"{endpoints.__name__}.{module_info.name}")
        source = inspect.getsource(module)
        assert "viewer(" not in source.replace("_viewer(", ""), module_info.name
