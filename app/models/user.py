"""User accounts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import pymongo
from beanie import Document
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
    failed_logins: int = 0
    locked_until: datetime | None = None
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
