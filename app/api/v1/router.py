"""Every endpoints module under /api/v1; admin routers under /api/v1/admin.

Admin routes check roles per module (users, audit, reference, partners: admins;
moderation: staff and admins); tests walk every /admin route to prove it.

`api_router` holds every route with its full path as one flat table, built once at import;
`mount(app)` puts those routes on the app's own router. FastAPI 0.16x keeps included routers
as a tree that it walks on every request (a version check per router level before any path
is matched: about 40 % of a `/health/live`); a flat table has the same paths, operations
and spec. The routes are shared by every app built in the process (they hold no per-app
state; `app.dependency_overrides` is not used). A `RouteIndex` then matches a request only
against the routes that can match its path (the event list was the 71st of 111 routes).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.v1.endpoints import (
    admin_announcements,
    admin_audit,
    admin_duplicates,
    admin_email_templates,
    admin_exports,
    admin_imports,
    admin_moderation,
    admin_partners,
    admin_reference,
    admin_sources,
    admin_users,
    auth,
    events,
    health,
    me,
    me_dismissed,
    me_invitations,
    me_notification_preferences,
    me_saved_searches,
    media,
    notifications,
    opportunities,
    organisations,
    partners,
    profiles,
    recommendations,
    reference,
    unsubscribe,
    users,
)
from app.schemas.common import error_responses

PREFIX = "/api/v1"
ADMIN_PREFIX = "/admin"
ADMIN_RESPONSES = error_responses(401, 403)

MODULES: tuple[ModuleType, ...] = (
    health,
    auth,
    users,
    me,
    me_dismissed,
    me_invitations,
    me_notification_preferences,
    me_saved_searches,
    notifications,
    recommendations,
    media,
    profiles,
    organisations,
    partners,
    opportunities,
    events,
    reference,
    unsubscribe,
)
ADMIN_MODULES: tuple[ModuleType, ...] = (
    admin_users,
    admin_audit,
    admin_moderation,
    admin_reference,
    admin_partners,
    admin_announcements,
    admin_email_templates,
    admin_sources,
    admin_duplicates,
    admin_imports,
    admin_exports,
)


def add_routes(target: APIRouter) -> None:
    """Every endpoint module's routes, in order, added to `target` with their full path."""
    for module in MODULES:
        _copy(target, module.router, PREFIX, {})
    for module in ADMIN_MODULES:
        _copy(target, module.router, PREFIX + ADMIN_PREFIX, ADMIN_RESPONSES)


def _copy(
    target: APIRouter, router: APIRouter, prefix: str, responses: dict[int | str, Any]
) -> None:
    """Re-declare each route of `router` (its prefix, tags and responses already applied)
    on `target` under `prefix`, keeping its route class (StrictRoute, UploadRoute)."""
    for route in router.routes:
        if not isinstance(route, APIRoute):  # pragma: no cover - endpoint modules declare none
            raise TypeError(f"{router.prefix}: only API routes can be flattened, got {route!r}")
        target.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses={**responses, **route.responses},
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
        )


api_router = APIRouter()
add_routes(api_router)


def mount(app: FastAPI) -> None:
    """Every API route on `app`'s own router, after its docs routes, matched by an index."""
    app.router.routes.extend(api_router.routes)
    app.router.middleware_stack = RouteIndex(app.router)


Key = tuple[str, ...]
KEY_SEGMENTS = 3  # "/api/v1/<domain>": literal in every API route


def _route_key(route: BaseRoute) -> Key | None:
    """The literal first segments of a route's path; None when it has fewer or a parameter
    among them (such a route is tried for every path)."""
    segments = str(getattr(route, "path", "")).split("/")[1:]
    if len(segments) < KEY_SEGMENTS or any("{" in s for s in segments[:KEY_SEGMENTS]):
        return None
    return tuple(segments[:KEY_SEGMENTS])


class RouteIndex:
    """The router's matching loop over the routes that can match the path only: those whose
    first segments are the path's, plus those without such a key, in table order. The first
    full match (else the first partial one, for 405) is the one the full scan would find,
    since no other route can match; anything unmatched (404, trailing-slash redirects) goes
    to the router's own full scan, as does FastAPI's native telemetry when it is on."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.full_scan: ASGIApp = router.app
        self.candidates: dict[Key, list[BaseRoute]] = {}
        self.indexed = -1  # the route count the index was built for

    def _build(self) -> None:
        routes = list(self.router.routes)
        keys = [_route_key(route) for route in routes]
        self.candidates = {
            key: [r for r, k in zip(routes, keys, strict=True) if k in (key, None)]
            for key in {k for k in keys if k is not None}
        }
        self.indexed = len(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "fastapi.telemetry" in scope:
            await self.full_scan(scope, receive, send)
            return
        if len(self.router.routes) != self.indexed:  # built on first use, and again if
            self._build()  # a route was added since (tests add some)
        scope.setdefault("router", self.router)
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        key = tuple(path.split("/", KEY_SEGMENTS + 1)[1 : KEY_SEGMENTS + 1])
        candidates = self.candidates.get(key, ())
        partial: tuple[BaseRoute, Scope] | None = None
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial = (route, child_scope)
        if partial is not None:
            scope.update(partial[1])
            await partial[0].handle(scope, receive, send)
            return
        await self.full_scan(scope, receive, send)
