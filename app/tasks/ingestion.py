"""Ingestion on the task engine: sources are due work (a schedule per source, claimed in
MongoDB), runs asked for are tasks; links of published items are checked on a schedule.
Every task may run twice: a run is claimed before it starts, a period's run has one key."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from app.core.config import Settings
from app.models.base import utcnow
from app.models.ingestion import Source
from app.services.ingestion import linkcheck, runs
from app.tasks import runtime
from app.tasks.claims import Claim, DueQueue
from app.tasks.registry import every, task

log = structlog.get_logger("app.ingestion")


def _settings() -> Settings:
    active = runtime.current()
    if active is None:  # pragma: no cover - tasks only run inside a runtime
        raise RuntimeError("no task runtime")
    return active.settings


@task("ingestion.run_source", max_attempts=3)
async def run_source(run_id: str) -> None:
    """Run one recorded run (a no-op when another worker has it or it is done)."""
    await runs.execute(_settings(), run_id)


async def _due_source(claim: Claim) -> datetime | None:
    """A due source: its run for this period (one key per period), enqueued; next due one
    interval on. A disabled source is never due again until re-enabled."""
    if not claim.document.get("enabled", True):
        return None
    run = await runs.scheduled_run(claim.id, claim.period)
    if run.status == "queued":
        await run_source.kiq(run_id=str(run.id))
    return utcnow() + timedelta(minutes=int(claim.document.get("interval_minutes", 360)))


@task("ingestion.sweep_sources")
async def sweep_sources() -> None:
    queue = DueQueue(Source.get_motor_collection(), where={"enabled": True})
    result = await queue.sweep(_due_source)
    if result.claimed_ids:
        log.info("sources_due", sources=len(result.claimed_ids), failed=result.failed)


@task("ingestion.check_links")
async def check_links() -> None:
    """Freshness: a batch of published items whose link was not checked lately."""
    settings = _settings()
    if settings.link_checks:
        await linkcheck.sweep(settings)


every("ingestion.sources.each-minute", sweep_sources, cron="* * * * *")
every("ingestion.links.hourly", check_links, cron="17 * * * *")
