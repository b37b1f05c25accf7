"""Liveness and readiness probes."""

from fastapi import APIRouter, Request

from app.api.openapi_contract import NO_DATABASE
from app.api.routing import StrictRoute
from app.core.exceptions import ServiceUnavailable
from app.schemas.common import error_responses
from app.schemas.health import Health

router = APIRouter(prefix="/health", tags=["health"], route_class=StrictRoute)


@router.get("/live", operation_id="health_live", openapi_extra=NO_DATABASE)
async def live() -> Health:
    """The process answers (no dependency is checked)."""
    return Health(status="ok")


@router.get(
    "/ready",
    operation_id="health_ready",
    responses=error_responses(503, codes={503: ["DATABASE_UNAVAILABLE"]}),
)
async def ready(request: Request) -> Health:
    """The database answers a ping; 503 (with `Retry-After`) while it does not."""
    if not await request.app.state.database.ping():
        raise ServiceUnavailable("The database does not answer.", code="DATABASE_UNAVAILABLE")
    return Health(status="ok", database="ok")
