"""The caller's own account."""

from fastapi import APIRouter, status

from app.api.deps import CurrentUser, SettingsDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.user import PasswordChange, UserRead, UserUpdateMe
from app.services import users as user_service

router = APIRouter(
    prefix="/users", tags=["users"], responses=error_responses(401), route_class=StrictRoute
)


@router.get("/me", operation_id="users_me_get")
async def get_me(principal: CurrentUser) -> UserRead:
    return UserRead.from_stored(await user_service.get_me(principal))


@router.patch("/me", operation_id="users_me_update")
async def update_me(principal: CurrentUser, body: UserUpdateMe) -> UserRead:
    """Only `full_name`; role, status and verification flags are rejected (422)."""
    return UserRead.from_doc(await user_service.update_me(principal, body))


@router.post(
    "/me/password",
    operation_id="users_me_change_password",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def change_password(
    principal: CurrentUser, body: PasswordChange, settings: SettingsDep
) -> None:
    """Changes the password and ends every other session of this user."""
    await user_service.change_password(
        settings, principal, body.current_password, body.new_password
    )
