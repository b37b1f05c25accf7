"""User accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import IndexModel

from app.models.base import Timestamps


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    partner = "partner"
    entrepreneur = "entrepreneur"


class User(Document, Timestamps):
    email: str
    password_hash: str
    full_name: str
    role: Role = Role.entrepreneur
    is_active: bool = True
    is_verified: bool = False
    # Keyed digests of client IPs this account logged in from (newest last, a few kept):
    # such clients are not held back by the account-wide throttle (see login_throttle).
    known_clients: list[str] = Field(default_factory=list)
    password_reset_required: bool = False
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", pymongo.ASCENDING)], unique=True, name="email_unique"),
            IndexModel([("created_at", -1), ("_id", -1)], name="created"),
            IndexModel([("role", 1), ("created_at", -1), ("_id", -1)], name="role_created"),
            IndexModel([("is_active", 1), ("created_at", -1), ("_id", -1)], name="active_created"),
            IndexModel([("email", 1), ("_id", 1)], name="email_sort"),
        ]


class AdminRoster(Document):
    """The ids of the active admins (`_id` "admins"): the guard that keeps at least one.

    Derived from `users` (rebuilt at start). An id leaves the roster, by one conditional
    update that requires another id to stay, *before* its user stops being an active admin,
    and joins it only *after* its user became one: so every id in it is really an active
    admin, and "two ids in the roster" proves there are two.
    """

    id: str = "admins"  # type: ignore[assignment]
    ids: list[PydanticObjectId] = Field(default_factory=list)

    class Settings:
        name = "admin_roster"
