"""Auth request/response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from app.schemas.common import InputModel
from app.schemas.user import PASSWORD_FIELD, normalise_email


class LoginJSON(InputModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return normalise_email(value)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Access token lifetime in seconds.")


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(InputModel):
    refresh_token: str | None = Field(default=None, max_length=4096)


class EmailRequest(InputModel):
    email: EmailStr

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return normalise_email(value)


class TokenRequest(InputModel):
    token: str = Field(min_length=1, max_length=256)


class ResetPasswordRequest(InputModel):
    token: str = Field(min_length=1, max_length=256)
    new_password: str = PASSWORD_FIELD
