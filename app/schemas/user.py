"""User request/response models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from app.core.pagination import Page
from app.models.user import Role, User
from app.schemas.common import InputModel, PatchModel
from app.schemas.construct import construct
from app.schemas.query import PageQuery, coded

PASSWORD_FIELD = Field(min_length=1, max_length=1024, description="10–128 characters.")


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserRead(BaseModel):
    id: str
    email: str
    full_name: str
    role: Role
    is_active: bool
    is_verified: bool
    created_at: datetime
    last_login_at: datetime | None = None

    @classmethod
    def from_doc(cls, user: User) -> UserRead:
        return cls(
            id=str(user.id),
            email=user.email,
            full_name=user.full_name,
            role=user.role,
            is_active=user.is_active,
            is_verified=user.is_verified,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> UserRead:
        """From the account as stored (`users.get_me`'s projection): our own data, not
        validated again."""
        return construct(
            cls,
            {
                "id": str(stored["_id"]),
                "email": stored["email"],
                "full_name": stored["full_name"],
                "role": Role(stored["role"]),
                "is_active": stored["is_active"],
                "is_verified": stored["is_verified"],
                "created_at": stored["created_at"],
                "last_login_at": stored.get("last_login_at"),
            },
        )


class AdminUserRead(UserRead):
    failed_logins: int = Field(
        description="Failed logins counted against the account from every client (forgotten "
        "after LOGIN_FAILURE_WINDOW_MINUTES without one)."
    )
    locked_until: datetime | None = Field(
        default=None,
        description="End of the account-wide login back-off, when one runs: until then only "
        "clients this account logged in from before may try (no hard lockout).",
    )
    password_reset_required: bool
    updated_at: datetime

    @classmethod
    def from_doc(
        cls, user: User, *, failed_logins: int = 0, locked_until: datetime | None = None
    ) -> AdminUserRead:
        return cls(
            **UserRead.from_doc(user).model_dump(),
            failed_logins=failed_logins,
            locked_until=locked_until,
            password_reset_required=user.password_reset_required,
            updated_at=user.updated_at,
        )


class UserCreate(InputModel):
    email: EmailStr
    password: str = PASSWORD_FIELD
    full_name: str = Field(min_length=1, max_length=120)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return normalise_email(value)


class UserUpdateMe(PatchModel):
    """What a user may change on their own account. Anything else is a 422."""

    full_name: str | None = Field(default=None, min_length=1, max_length=120)


class PasswordChange(InputModel):
    current_password: str = PASSWORD_FIELD
    new_password: str = PASSWORD_FIELD


class UserStatus(StrEnum):
    active = "active"
    inactive = "inactive"
    locked = "locked"  # an account-wide login back-off is running


class AdminUserUpdate(PatchModel):
    role: Role | None = None
    is_active: bool | None = None


class AdminUserPage(Page[AdminUserRead]):
    """A page of users (admin view)."""


AdminUserSort = Literal["-created_at", "created_at", "email"]


class AdminUserQuery(PageQuery):
    role: Role | None = None
    status: UserStatus | None = None
    q: str | None = Field(default=None, max_length=100, description="Text in e-mail or name.")
    sort: Annotated[AdminUserSort, coded("INVALID_SORT")] = "-created_at"
