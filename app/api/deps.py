"""Typed dependencies: settings, the caller (as a principal or a catalogue viewer), role
checks, If-Match. List parameters are query models (`Annotated[XQuery, Query()]`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.api.http import if_match_version
from app.core.config import Settings
from app.core.cpu_pool import CpuPool
from app.core.exceptions import Forbidden, Unauthorized
from app.models.user import Role
from app.services import auth as auth_service
from app.services.auth import Principal
from app.services.catalogue import Viewer, viewer
from app.services.recommendations.engine import Recommender
from app.storage import Storage


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


async def get_media_pool(request: Request) -> CpuPool:
    pool: CpuPool = request.app.state.media_pool
    return pool


async def get_recommender(request: Request) -> Recommender:
    engine: Recommender = request.app.state.recommender
    return engine


StorageDep = Annotated[Storage, Depends(get_storage)]
MediaPoolDep = Annotated[CpuPool, Depends(get_media_pool)]
RecommenderDep = Annotated[Recommender, Depends(get_recommender)]


class BearerAuth(OAuth2PasswordBearer):
    """The caller, from the `Authorization: Bearer` token: one dependency (FastAPI's cost is
    per dependency, and every request pays it), documented as the OAuth2 password flow.

    The token's signature and claims are checked in memory; revocation and deactivation
    with one indexed lookup (`auth.authenticate`). The result is kept on the request, so
    endpoints asking for the caller twice (optional and required) authenticate once."""

    def __init__(self, *, required: bool) -> None:
        super().__init__(
            tokenUrl="/api/v1/auth/login", scheme_name="OAuth2PasswordBearer", auto_error=False
        )
        self.required = required

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            token = await super().__call__(request)
            if token:
                settings: Settings = request.app.state.settings
                principal = await auth_service.authenticate(settings, token)
                request.state.principal = principal
                request.state.user_id = str(principal.id)  # read by the access log
        if principal is None and self.required:
            raise Unauthorized()
        return principal


OptionalUser = Annotated[Principal | None, Depends(BearerAuth(required=False))]
CurrentUser = Annotated[Principal, Depends(BearerAuth(required=True))]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the caller must hold one of `roles` (401 without a token)."""

    async def checker(principal: CurrentUser) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden("Your role does not allow this.", code="INSUFFICIENT_ROLE")
        return principal

    checker.__name__ = f"require_{'_or_'.join(r.value for r in roles)}"
    return checker


AdminDep = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffDep = Annotated[Principal, Depends(require_roles(Role.admin, Role.staff))]
# The version from an If-Match header (None when absent); a malformed one is a 412.
IfMatch = Annotated[int | None, Depends(if_match_version)]


async def get_viewer(principal: OptionalUser) -> Viewer:
    """The caller with their organisation roles, for the catalogue's services."""
    return await viewer(principal)


async def get_signed_in_viewer(principal: CurrentUser) -> Viewer:
    return await viewer(principal)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]  # anyone; anonymous too
SignedInViewer = Annotated[Viewer, Depends(get_signed_in_viewer)]  # 401 without a token
