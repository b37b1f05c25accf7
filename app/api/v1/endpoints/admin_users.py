"""User administration (admin only; the role check is on the admin router)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import AdminUser, PageDep, SettingsDep
from app.api.routing import StrictRoute
from app.models.user import Role
from app.schemas.common import error_responses
from app.schemas.user import AdminUserPage, AdminUserRead, AdminUserUpdate, UserStatus
from app.services import users as user_service
from app.services.users import AdminUserView

router = APIRouter(
    prefix="/users", tags=["admin"], responses=error_responses(404), route_class=StrictRoute
)


def _read(view: AdminUserView) -> AdminUserRead:
    return AdminUserRead.from_doc(
        view.user, failed_logins=view.login.failures, locked_until=view.login.blocked_until
    )


@router.get("", operation_id="admin_users_list", response_model=AdminUserPage)
async def list_users(
    _: AdminUser,
    page: PageDep,
    role: Role | None = None,
    status_: Annotated[UserStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in e-mail or name.")] = None,
    sort: Annotated[str, Query(description="-created_at, created_at or email")] = "-created_at",
) -> AdminUserPage:
    views, cursor, total = await user_service.admin_list(
        role=role, status=status_, q=q, sort=sort, page=page
    )
    return AdminUserPage(items=[_read(v) for v in views], next_cursor=cursor, total=total)


@router.get("/{user_id}", operation_id="admin_users_get", response_model=AdminUserRead)
async def get_user(_: AdminUser, user_id: str) -> AdminUserRead:
    return _read(await user_service.admin_get(user_id))


@router.patch(
    "/{user_id}",
    operation_id="admin_users_update",
    response_model=AdminUserRead,
    responses=error_responses(409),
)
async def update_user(
    actor: AdminUser, user_id: str, body: AdminUserUpdate, settings: SettingsDep
) -> AdminUserRead:
    """Change role or active flag; either change ends the user's sessions at once and is
    audited. Demoting or deactivating the last active admin is a 409 `LAST_ADMIN`."""
    return _read(await user_service.admin_update(settings, actor, user_id, body))


@router.post("/{user_id}/unlock", operation_id="admin_users_unlock", response_model=AdminUserRead)
async def unlock_user(actor: AdminUser, user_id: str) -> AdminUserRead:
    """End the account's login back-offs (account-wide and per client); audited."""
    return _read(await user_service.admin_unlock(actor, user_id))


@router.post(
    "/{user_id}/force-password-reset",
    operation_id="admin_users_force_password_reset",
    response_model=AdminUserRead,
    status_code=status.HTTP_200_OK,
)
async def force_password_reset(
    actor: AdminUser, user_id: str, settings: SettingsDep
) -> AdminUserRead:
    """Ends the user's sessions, blocks login until reset and e-mails a reset link; audited."""
    return _read(await user_service.admin_force_password_reset(settings, actor, user_id))
