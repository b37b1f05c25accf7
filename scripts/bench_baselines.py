"""The baselines `bench_api.py` measures our endpoints against, served by the same process.

- `/_raw/…` a raw Starlette JSON endpoint (the floor of any ASGI JSON answer);
- `/_bare/…` a bare FastAPI endpoint (FastAPI's own routing, dependency and response cost);
- `/_beanie/…` bare FastAPI + Beanie handlers that run the same queries as our list, search
  and geo endpoints against the same documents and return the documents (the handler a
  tutorial would write: no middleware, no auth, no query model, no presenter).

`serve()` mounts them beside our app behind a small dispatcher, which also answers
`/_bench/cpu` (this process's `time.process_time()`) and `/_bench/token` (an access token for
a bench user), and runs one uvicorn worker.
"""

from __future__ import annotations

import json
import time
from typing import Any

import uvicorn
from beanie import PydanticObjectId, SortDirection
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings
from app.main import create_app
from app.models.catalogue import ItemStatus
from app.models.event import Event
from app.models.opportunity import Opportunity
from app.models.user import Role, User
from app.services import sessions
from app.services.users import create_user
from app.utils.geo import bounding_box_filter, haversine_km
from app.utils.text import tokens

PUBLISHED = {"status": ItemStatus.published.value}
PAGE = 20
MAX_CANDIDATES = 5000


def raw_starlette() -> Starlette:
    async def live(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/health/live", live)])


def bare_fastapi() -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare_beanie() -> FastAPI:
    """The same database work as ours per request, returned as the documents themselves."""
    app = FastAPI(openapi_url=None)

    @app.get("/opportunities")
    async def opportunities() -> list[Opportunity]:
        sort = [("deadline_sort", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]
        docs = await Opportunity.find(PUBLISHED).sort(sort).limit(PAGE + 1).to_list()
        return docs[:PAGE]

    @app.get("/opportunities/search")
    async def search(q: str) -> list[Opportunity]:
        wanted = tokens(q)
        matches = Opportunity.get_motor_collection().find(
            {**PUBLISHED, "search_tokens": {"$all": wanted}}, {"title_tokens": 1, "featured": 1}
        )
        scored: list[tuple[int, Any]] = []
        async for doc in matches.limit(MAX_CANDIDATES):
            title = set(doc.get("title_tokens") or [])
            score = sum(3 if t in title else 1 for t in wanted) + bool(doc.get("featured"))
            scored.append((score, doc["_id"]))
        scored.sort(key=lambda pair: (-pair[0], -int(str(pair[1]), 16)))
        ids = [i for _, i in scored[:PAGE]]
        docs = {d.id: d for d in await Opportunity.find({"_id": {"$in": ids}}).to_list()}
        return [docs[i] for i in ids if i in docs]

    @app.get("/events/near")
    async def near(lat: float, lng: float, radius_km: float) -> list[Event]:
        box = bounding_box_filter("venue.lat", "venue.lng", lat, lng, radius_km)
        candidates = Event.get_motor_collection().find(
            {"$and": [PUBLISHED, box]}, {"venue.lat": 1, "venue.lng": 1}
        )
        inside: list[PydanticObjectId] = []
        async for doc in candidates.limit(MAX_CANDIDATES):
            venue = doc.get("venue") or {}
            if venue.get("lat") is None or venue.get("lng") is None:
                continue
            if haversine_km(lat, lng, venue["lat"], venue["lng"]) <= radius_km:
                inside.append(doc["_id"])
        found = Event.find({**PUBLISHED, "_id": {"$in": inside}})
        by_start = [("start_at", SortDirection.ASCENDING), ("_id", SortDirection.ASCENDING)]
        docs = await found.sort(by_start).limit(PAGE + 1).to_list()
        return docs[:PAGE]

    return app


class Dispatcher:
    """Routes `/_raw`, `/_bare`, `/_beanie` to the baselines, `/_bench/…` to itself and
    everything else (and the lifespan) to our app: one process, one event loop."""

    def __init__(self, ours: FastAPI, settings: Settings) -> None:
        self.ours = ours
        self.settings = settings
        self.mounts: list[tuple[str, ASGIApp]] = [
            ("/_raw", raw_starlette()),
            ("/_bare", bare_fastapi()),
            ("/_beanie", bare_beanie()),
        ]
        self.token: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.ours(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_bench/"):
            await self._own(path, send)
            return
        for prefix, app in self.mounts:
            if path.startswith(prefix + "/"):
                await app({**scope, "path": path[len(prefix) :]}, receive, send)
                return
        await self.ours(scope, receive, send)

    async def _own(self, path: str, send: Send) -> None:
        if path == "/_bench/cpu":
            body = json.dumps({"cpu": time.process_time()}).encode()
        else:
            body = json.dumps({"token": await self._token()}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _token(self) -> str:
        if self.token is None:
            email = "bench@example.org"
            user = await User.find_one(User.email == email) or await create_user(
                self.settings, email, "benchmark-password-1", "Bench", Role.entrepreneur
            )
            self.token = (await sessions.start(self.settings, user)).access_token
        return self.token


def serve(port: int, settings: Settings) -> None:
    dispatcher = Dispatcher(create_app(settings), settings)
    uvicorn.run(
        dispatcher,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        lifespan="on",
    )
