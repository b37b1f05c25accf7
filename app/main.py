"""Application factory: settings, logging, middleware, routers and the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError

from app.api.middleware import RequestContextMiddleware
from app.api.uploads import upload_path_pattern
from app.api.v1.router import api_router, mount
from app.core.config import Environment, Settings, get_settings
from app.core.cpu_pool import CpuPool
from app.core.exceptions import register_exception_handlers
from app.core.logging import configure_logging
from app.core.openapi import build_openapi
from app.core.ratelimit import configure_limiter
from app.db.session import connect
from app.seed import bootstrap
from app.services.notifications import stream as notification_stream
from app.services.recommendations.engine import Recommender
from app.storage import start_storage
from app.tasks.runtime import TaskRuntime

log = structlog.get_logger("app")

DESCRIPTION = """RunWei connects entrepreneurs and small-business owners with opportunities
(grants, loans, equity, accelerators, competitions), events, and the organisations and
partners that publish them.

Every error has the shape `{"error": {"code", "message", "details"}, "request_id"}`.
Lists use keyset pagination: `?limit=&cursor=` → `{"items", "next_cursor", "total"}`."""


TAGS = [
    {
        "name": "auth",
        "description": "Sign-up, login (form or JSON), token refresh and logout, e-mail verification, password reset.",
    },
    {"name": "users", "description": "The caller's own account."},
    {"name": "me", "description": "The caller's saved opportunities, applications and RSVPs."},
    {
        "name": "profiles",
        "description": "Entrepreneurs' business profiles (visibility: public, members, private).",
    },
    {"name": "organisations", "description": "Publishing organisations and their members."},
    {"name": "partners", "description": "Platform partners, listed while active."},
    {
        "name": "opportunities",
        "description": "Grants, loans, equity, accelerators, competitions: search, workflow, saves, applications.",
    },
    {
        "name": "events",
        "description": "Workshops, networking, conferences: search (incl. near a point), workflow, RSVPs, iCalendar.",
    },
    {
        "name": "reference",
        "description": "Reference data referred to by slug: industries, types, communities, SDGs, tags.",
    },
    {
        "name": "media",
        "description": "Uploads to blob storage: avatars, logos, covers, PDF attachments.",
    },
    {
        "name": "admin",
        "description": "Users, audit log, moderation queue, reference data and partners (admins; moderation also staff).",
    },
    {
        "name": "notifications",
        "description": "Your inbox, its real-time stream, preferences, saved searches and one-click unsubscribe.",
    },
    {
        "name": "recommendations",
        "description": "Opportunities and events ranked for your profile with a reason per "
        "criterion, one item's match, more like this, and who an opportunity's rules reach.",
    },
    {"name": "health", "description": "Liveness and readiness probes."},
]


def load_settings() -> Settings:
    """Settings, or exit with a one-line reason (e.g. a weak SECRET_KEY in production)."""
    try:
        return get_settings()
    except ValidationError as exc:
        reasons = "; ".join(
            str(err.get("msg", "")).removeprefix("Value error, ") for err in exc.errors()
        )
        raise SystemExit(f"configuration error: {reasons}") from None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await connect(settings)
        app.state.database = database
        app.state.storage = await start_storage(settings)
        app.state.media_pool = CpuPool(
            workers=settings.media_processing_workers,
            queue=settings.media_processing_queue,
            wait_seconds=settings.media_processing_wait_seconds,
            name="media",
        )
        app.state.recommender = Recommender(settings).start()  # before tasks: they use it
        app.state.tasks = TaskRuntime(settings, role="api")
        await app.state.tasks.start()
        app.state.notification_hub = await notification_stream.start(settings)
        await bootstrap.prepare(settings)
        if settings.environment is not Environment.test:  # tests start hundreds of apps
            app.state.recommender.warm_up(freeze=True)
            # Everything alive now (modules, app, seed data) lives as long as the process:
            # keep it out of the collector, or a full collection (e.g. during a burst of
            # uploads) pauses every request for 100+ ms.
            gc.collect()
            gc.freeze()
        log.info("app_started", environment=settings.environment.value)
        try:
            yield
        finally:
            await app.state.media_pool.close()
            await app.state.tasks.close()  # before the database closes
            await notification_stream.stop(app.state.notification_hub)
            await app.state.recommender.close()
            await app.state.storage.close()
            database.close()
            log.info("app_stopped")

    app = FastAPIOffline(
        title=settings.app_name,
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        openapi_tags=TAGS,
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's native OpenTelemetry asks the global providers on every request; we
        # configure none, so it stays off (pass providers here to turn it on).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.limiter = configure_limiter(settings)
    register_exception_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=settings.cors_allow_credentials,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "X-Request-ID",
        ],
        expose_headers=["ETag", "X-Request-ID", "Retry-After", "Location"],
        max_age=600,
    )
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        drain_bytes=settings.body_drain_bytes,
        drain_seconds=settings.body_drain_seconds,
        # Upload routes (`UploadRoute`) stream under their own limits, not MAX_BODY_BYTES.
        unlimited_paths=upload_path_pattern(api_router.routes),
        hsts=settings.is_production,
    )
    mount(app)  # one flat route table (see app/api/v1/router.py)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
