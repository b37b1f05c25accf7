"""Start-up data: what the server does at start and what scripts/init_db.py does on demand."""

from __future__ import annotations

import structlog

from app.core.config import Settings
from app.seed.reference_data import load_reference_data
from app.services import media_upkeep
from app.services import users as user_service

log = structlog.get_logger("app.bootstrap")


async def prepare(settings: Settings) -> None:
    """Idempotent: reference data, first admin, and (embedded + demo) the demo catalogue.
    Indexes are created by `connect`."""
    added = await load_reference_data()
    if added:
        log.info("reference_data_seeded", items=added)
    await user_service.ensure_first_admin(settings)
    linked = await media_upkeep.backfill_owner_links()
    if linked:
        log.info("media_owner_links_backfilled", linked=linked)
    if settings.embedded_database and settings.seed_demo_data:
        from app.seed.demo import load_demo

        counts = await load_demo(settings)
        log.info("demo_catalogue_loaded", **counts)
