"""Housekeeping of the task engine itself."""

from __future__ import annotations

import structlog

from app.tasks import effects
from app.tasks.registry import every, task

log = structlog.get_logger("app.tasks")


@task("maintenance.prune_effects")
async def prune_effects() -> int:
    """Forget effect records past their retention (MongoDB's TTL index does it on a server;
    the embedded backend needs this). Idempotent: a second run deletes nothing."""
    deleted = await effects.prune()
    log.info("effects_pruned", deleted=deleted)
    return deleted


every("maintenance.prune_effects.hourly", prune_effects, cron="7 * * * *")
