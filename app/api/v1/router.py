"""Every endpoints module under /api/v1; admin routers under /api/v1/admin, admin-only."""

from fastapi import APIRouter, Depends

from app.api.deps import require_roles
from app.api.v1.endpoints import admin_users, auth, health, users
from app.models.user import Role
from app.schemas.common import error_responses

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(health.router)
api_router.include_router(auth.router)
api_router.include_router(users.router)

admin_router = APIRouter(
    prefix="/admin",
    dependencies=[Depends(require_roles(Role.admin))],
    responses=error_responses(401, 403),
)
admin_router.include_router(admin_users.router)
api_router.include_router(admin_router)
