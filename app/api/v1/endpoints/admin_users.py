"""User administration (admin only; the role check is on the admin router)."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import AdminDep, PathKey, SettingsDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.user import AdminUserPage, AdminUserQuery, AdminUserRead, AdminUserUpdate
from app.services import users as user_service
from app.services.users import AdminUserView

router = APIRouter(prefix="/users", tags=["admin"], route_class=StrictRoute)
NOT_FOUND = error_responses(404, codes={404: ["USER_NOT_FOUND"]})


def _read(view: AdminUserView) -> AdminUserRead:
    return AdminUserRead.from_doc(
        view.user, failed_logins=view.login.failures, locked_until=view.login.blocked_until
    )


@router.get("", operation_id="admin_users_list")
async def list_users(_: AdminDep, query: Annotated[AdminUserQuery, Query()]) -> AdminUserPage:
    """Every account, filtered by role, status or text, with its login back-off state."""
    views, cursor, total = await user_service.admin_list(query)
    return AdminUserPage(items=[_read(v) for v in views], next_cursor=cursor, total=total)


@router.get("/{user_id}", operation_id="admin_users_get", responses=NOT_FOUND)
async def get_user(_: AdminDep, user_id: PathKey) -> AdminUserRead:
    """One account, with its login back-off state."""
    return _read(await user_service.admin_get(user_id))


@router.patch(
    "/{user_id}",
    operation_id="admin_users_update",
    responses=error_responses(
        404,
        409,
        codes={404: ["USER_NOT_FOUND"], 409: ["LAST_ADMIN", "USER_CHANGED", "CONCURRENT_CHANGE"]},
    ),
)
async def update_user(
    actor: AdminDep, user_id: PathKey, body: AdminUserUpdate, settings: SettingsDep
) -> AdminUserRead:
    """Change role or active flag; either change ends the user's sessions at once and is
    audited. Demoting or deactivating the last active admin is a 409 `LAST_ADMIN`."""
    return _read(await user_service.admin_update(settings, actor, user_id, body))


@router.post("/{user_id}/unlock", operation_id="admin_users_unlock", responses=NOT_FOUND)
async def unlock_user(actor: AdminDep, user_id: PathKey) -> AdminUserRead:
    """End the account's login back-offs (account-wide and per client); audited."""
    return _read(await user_service.admin_unlock(actor, user_id))


@router.post(
    "/{user_id}/force-password-reset",
    operation_id="admin_users_force_password_reset",
    status_code=status.HTTP_200_OK,
    responses=NOT_FOUND,
)
async def force_password_reset(
    actor: AdminDep, user_id: PathKey, settings: SettingsDep
) -> AdminUserRead:
    """Ends the user's sessions, blocks login until reset and e-mails a reset link; audited."""
    return _read(await user_service.admin_force_password_reset(settings, actor, user_id))
