"""Auth request/response models."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from pydantic import AfterValidator, BaseModel, EmailStr, Field

from app.schemas.common import InputModel
from app.schemas.user import CURRENT_PASSWORD_FIELD, NewPassword
from app.schemas.validators import EMAIL_MAX, Email, normalise_email

# Ours are ~350 characters; the decoder refuses anything longer than 2048 anyway.
TOKEN_FIELD = Field(min_length=1, max_length=4096, description="A refresh token from a pair.")
LOGIN_PASSWORD_MAX = 1024  # passlib refuses secrets past 4 KiB (it was a 500)


class LoginJSON(InputModel):
    email: Email
    password: str = CURRENT_PASSWORD_FIELD


class LoginForm:
    """The OAuth2 password form (as Swagger's Authorize sends it), every field bounded and
    `username` under the one e-mail rule (`Email`), like `/auth/login/json`'s `email`.
    Individual form fields (not a model), so a repeated one is a 422 REPEATED_FORM_FIELD."""

    def __init__(
        self,
        username: Annotated[
            EmailStr,
            AfterValidator(normalise_email),
            Form(max_length=EMAIL_MAX, description="The e-mail."),
        ],
        password: Annotated[
            str,
            Form(
                min_length=1,
                max_length=LOGIN_PASSWORD_MAX,
                json_schema_extra={"format": "password"},
            ),
        ],
        grant_type: Annotated[Literal["password"] | None, Form()] = None,
        scope: Annotated[str, Form(max_length=1000, description="Ignored.")] = "",
        client_id: Annotated[str | None, Form(max_length=200, description="Ignored.")] = None,
        client_secret: Annotated[
            str | None,
            Form(max_length=200, description="Ignored.", json_schema_extra={"format": "password"}),
        ] = None,
    ) -> None:
        self.username = username
        self.password = password
        self.grant_type = grant_type
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


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
