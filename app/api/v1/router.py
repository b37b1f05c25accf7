"""Every endpoints module under /api/v1; admin routers under /api/v1/admin.

Admin routes check roles per module (users, audit, reference, partners: admins;
moderation: staff and admins); tests walk every /admin route to prove it.
"""

from fastapi import APIRouter

from app.api.v1.endpoints import (
    admin_audit,
    admin_duplicates,
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
    media,
    opportunities,
    organisations,
    partners,
    profiles,
    reference,
    users,
)
from app.schemas.common import error_responses

api_router = APIRouter(prefix="/api/v1")
for module in (
    health,
    auth,
    users,
    me,
    me_dismissed,
    me_invitations,
    media,
    profiles,
    organisations,
    partners,
    opportunities,
    events,
    reference,
):
    api_router.include_router(module.router)

admin_router = APIRouter(prefix="/admin", responses=error_responses(401, 403))
for admin_module in (
    admin_users,
    admin_audit,
    admin_moderation,
    admin_reference,
    admin_partners,
    admin_sources,
    admin_duplicates,
    admin_imports,
    admin_exports,
):
    admin_router.include_router(admin_module.router)
api_router.include_router(admin_router)
