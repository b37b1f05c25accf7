"""Sign-up, login, token refresh/logout, e-mail verification and password reset."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.deps import CurrentUser, SettingsDep
from app.api.routing import StrictRoute
from app.core.ratelimit import client_ip, limit_from_settings, limiter
from app.schemas.auth import (
    EmailRequest,
    LoginForm,
    LoginJSON,
    LogoutRequest,
    RefreshRequest,
    ResetPasswordRequest,
    TokenPair,
    TokenRequest,
)
from app.schemas.common import error_responses
from app.schemas.user import UserCreate, UserRead
from app.services import auth as auth_service

router = APIRouter(prefix="/auth", tags=["auth"], route_class=StrictRoute)

# Both login routes draw on one per-IP budget (a slowapi shared limit).
login_limit = limiter.shared_limit(limit_from_settings("rate_limit_login"), scope="auth_login")


@router.post(
    "/register",
    operation_id="auth_register",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 429),
)
@limiter.limit(limit_from_settings("rate_limit_register"))
async def register(
    request: Request, response: Response, body: UserCreate, settings: SettingsDep
) -> UserRead:
    return UserRead.from_doc(await auth_service.register(settings, body))


@router.post(
    "/login",
    operation_id="auth_login",
    responses=error_responses(401, 403, 429),
)
@login_limit
async def login(
    request: Request,
    response: Response,
    form: Annotated[LoginForm, Depends()],
    settings: SettingsDep,
) -> TokenPair:
    """OAuth2 password form (`username` is the e-mail), as Swagger's Authorize sends it.
    Repeated failures are throttled per (account, client IP) and per account: 429
    `LOGIN_THROTTLED` with `Retry-After` and `unlock_at`."""
    return await auth_service.login(settings, form.username, form.password, client_ip(request))


@router.post(
    "/login/json",
    operation_id="auth_login_json",
    responses=error_responses(401, 403, 429),
)
@login_limit
async def login_json(
    request: Request, response: Response, body: LoginJSON, settings: SettingsDep
) -> TokenPair:
    """The same login as `/auth/login` (same throttling, same per-IP budget), as JSON."""
    return await auth_service.login(settings, body.email, body.password, client_ip(request))


@router.post(
    "/refresh",
    operation_id="auth_refresh",
    responses=error_responses(401, 429),
)
@limiter.limit(limit_from_settings("rate_limit_refresh"))
async def refresh(
    request: Request, response: Response, body: RefreshRequest, settings: SettingsDep
) -> TokenPair:
    return await auth_service.refresh(settings, body.refresh_token)


@router.post(
    "/logout",
    operation_id="auth_logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401),
)
async def logout(
    principal: CurrentUser, settings: SettingsDep, body: LogoutRequest | None = None
) -> None:
    await auth_service.logout(settings, principal, body.refresh_token if body else None)


@router.post(
    "/forgot-password",
    operation_id="auth_forgot_password",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(429),
)
@limiter.limit(limit_from_settings("rate_limit_forgot_password"))
async def forgot_password(
    request: Request, response: Response, body: EmailRequest, settings: SettingsDep
) -> None:
    """Always 202 with the same body, whether or not the address has an account: the
    e-mail is queued and sent off the request path."""
    await auth_service.forgot_password(settings, body.email)


@router.post(
    "/reset-password",
    operation_id="auth_reset_password",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def reset_password(body: ResetPasswordRequest, settings: SettingsDep) -> None:
    await auth_service.reset_password(settings, body.token, body.new_password)


@router.post(
    "/verify-email",
    operation_id="auth_verify_email",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def verify_email(body: TokenRequest, settings: SettingsDep) -> None:
    await auth_service.verify_email(body.token, settings)


@router.post(
    "/resend-verification",
    operation_id="auth_resend_verification",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(429),
)
@limiter.limit(limit_from_settings("rate_limit_resend_verification"))
async def resend_verification(
    request: Request, response: Response, body: EmailRequest, settings: SettingsDep
) -> None:
    """No login needed, like forgot-password, and always 202 with the same body, so it cannot
    confirm that an address has an account. An active, unverified account gets a new link
    (the previous one stops working); every other address gets nothing."""
    await auth_service.resend_verification(settings, body.email)
