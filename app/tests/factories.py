"""Async factories. Tokens are minted with the real session code (no login round trip)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.core.config import Settings
from app.models.user import Role, User
from app.services import sessions
from app.services.users import create_user

DEFAULT_PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


@dataclass
class UserWithToken:
    user: User
    password: str
    access_token: str
    refresh_token: str

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_user(
    settings: Settings,
    *,
    role: str | Role = Role.entrepreneur,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str | None = None,
) -> UserWithToken:
    n = next(_counter)
    role = Role(role)
    user = await create_user(
        settings,
        email or f"{role.value}{n}@example.org",
        password,
        full_name or f"{role.value.title()} {n}",
        role,
    )
    pair = await sessions.start(settings, user)
    return UserWithToken(user, password, pair.access_token, pair.refresh_token)
