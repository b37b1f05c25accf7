"""Auth request/response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import InputModel
from app.schemas.user import CURRENT_PASSWORD_FIELD, NewPassword
from app.schemas.validators import Email

# Ours are ~350 characters; the decoder refuses anything longer than 2048 anyway.
TOKEN_FIELD = Field(min_length=1, max_length=4096, description="A refresh token from a pair.")


class LoginJSON(InputModel):
    email: Email
    password: str = CURRENT_PASSWORD_FIELD


class LoginForm(InputModel):
    """The OAuth2 password grant as a form (what Swagger's Authorize sends). `username` is
    the e-mail, under the same rule as everywhere else."""

    grant_type: Literal["password"] | None = None
    username: Email
    password: str = CURRENT_PASSWORD_FIELD
    scope: str = Field(default="", max_length=200, description="Ignored.")
    client_id: str | None = Field(default=None, max_length=200, description="Ignored.")
    client_secret: str | None = Field(default=None, max_length=200, description="Ignored.")


class TokenPair(BaseModel):
    access_token: str = Field(max_length=2048, description="Send as `Authorization: Bearer`.")
    refresh_token: str = Field(max_length=2048, description="Send to `/auth/refresh` once.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(ge=1, le=86400, description="Access token lifetime in seconds.")


class RefreshRequest(InputModel):
    refresh_token: str = TOKEN_FIELD


class LogoutRequest(InputModel):
    refresh_token: str | None = Field(
        default=None, max_length=4096, description="Also end the session of this token."
    )


class EmailRequest(InputModel):
    email: Email


class TokenRequest(InputModel):
    token: str = Field(min_length=1, max_length=256, description="The token from the e-mail link.")


class ResetPasswordRequest(InputModel):
    token: str = Field(min_length=1, max_length=256, description="The token from the e-mail link.")
    new_password: NewPassword
