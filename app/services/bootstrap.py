"""Start-up data: what the server does at start and what scripts/init_db.py does on demand."""

from __future__ import annotations

import structlog

from app.core.config import Settings
from app.services import users as user_service

log = structlog.get_logger("app.bootstrap")


async def prepare(settings: Settings) -> None:
    """Idempotent: reference data, first admin (indexes are created by `connect`)."""
    await user_service.ensure_first_admin(settings)
