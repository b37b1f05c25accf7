"""Typed dependencies: settings, the caller, role checks, page parameters."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import OAuth2PasswordBearer

from app.api.http import if_match_version
from app.core.config import Settings
from app.core.exceptions import Forbidden, Unauthorized
from app.core.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams
from app.models.user import Role
from app.services import auth as auth_service
from app.services.auth import Principal

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_optional_user(
    request: Request, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    if not token:
        return None
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = await auth_service.authenticate(settings, token)
    request.state.principal = principal
    request.state.user_id = str(principal.id)  # read by the access log
    return principal


async def get_current_user(
    principal: Annotated[Principal | None, Depends(get_optional_user)],
) -> Principal:
    if principal is None:
        raise Unauthorized()
    return principal


OptionalUser = Annotated[Principal | None, Depends(get_optional_user)]
CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory: the caller must hold one of `roles` (401 without a token)."""

    async def checker(principal: CurrentUser) -> Principal:
        if not principal.has_role(*roles):
            raise Forbidden("Your role does not allow this.", code="INSUFFICIENT_ROLE")
        return principal

    checker.__name__ = f"require_{'_or_'.join(r.value for r in roles)}"
    return checker


AdminUser = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffUser = Annotated[Principal, Depends(require_roles(Role.admin, Role.staff))]
# The version from an If-Match header (None when absent); a malformed one is a 412.
IfMatch = Annotated[int | None, Depends(if_match_version)]


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1–100.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="Opaque cursor from `next_cursor`."),
    ] = None,
    include_total: Annotated[bool, Query(description="Also count all matches.")] = False,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, include_total=include_total)


PageDep = Annotated[PageParams, Depends(page_params)]
