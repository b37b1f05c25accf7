"""Auth request/response models."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form
from pydantic import BaseModel, EmailStr, Field, field_validator

from app.schemas.common import InputModel
from app.schemas.user import PASSWORD_FIELD, normalise_email

# Both login routes take the same two values with the same bounds. The address is not
# validated as an e-mail here: login only looks it up (an address no account has is a 401
# like any other), and the demo admin's `admin@runwei.local` is a special-use domain an
# e-mail validator refuses — it must log in through either route.
LOGIN_EMAIL_MAX = 320
LOGIN_PASSWORD_MAX = 1024


class LoginJSON(InputModel):
    email: str = Field(min_length=1, max_length=LOGIN_EMAIL_MAX)
    password: str = Field(min_length=1, max_length=LOGIN_PASSWORD_MAX)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return normalise_email(value)


class LoginForm:
    """The OAuth2 password form (as Swagger's Authorize sends it), with every field bounded:
    FastAPI's `OAuth2PasswordRequestForm` takes strings of any length, and a password past
    passlib's 4 KiB limit was a 500."""

    def __init__(
        self,
        username: Annotated[
            str, Form(min_length=1, max_length=LOGIN_EMAIL_MAX, description="The e-mail.")
        ],
        password: Annotated[
            str,
            Form(
                min_length=1,
                max_length=LOGIN_PASSWORD_MAX,
                json_schema_extra={"format": "password"},
            ),
        ],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=200)] = None,
        client_secret: Annotated[
            str | None, Form(max_length=200, json_schema_extra={"format": "password"})
        ] = None,
    ) -> None:
        self.username = username
        self.password = password
        self.grant_type = grant_type
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


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
