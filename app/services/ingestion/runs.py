"""A source run: fetch (politely, guarded), parse, map, upsert each entry, suggest
duplicates, report. Runs are due work (`tasks/ingestion.py` claims due sources) or asked
for (`POST /admin/sources/{id}/run`); either way a run is a document with a unique key,
claimed by one conditional update before it starts, so a duplicated task runs it once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.models.base import utcnow
from app.models.ingestion import (
    MAX_REPORTED_ENTRIES,
    EntryOutcome,
    EntryReport,
    IngestedEntry,
    RunCounts,
    Source,
    SourceRun,
)
from app.models.user import Role
from app.services.auth import Principal
from app.services.catalogue import Viewer, viewer
from app.services.ingestion import dedupe, mapping, parsers, sources
from app.services.ingestion.entries import Target, still_listed, upsert
from app.services.ingestion.fetch import Fetched, Fetcher, FetchRefused
from app.services.ingestion.merge import KINDS
from app.services.ingestion.parsers import Entry, ParseContext, SourceRefused
from app.services.reference import ActiveSlugs

log = structlog.get_logger("app.ingestion")

RUN_LEASE = timedelta(minutes=30)
WHOLE_DOCUMENT = frozenset({"feed", "ical", "jsonld"})  # parsed at once, in a thread


def actor(user_id: PydanticObjectId) -> Principal:
    """Runs act as the staff member who set the source up (audit entries name them)."""
    far = datetime(9999, 1, 1, tzinfo=UTC)
    return Principal(id=user_id, role=Role.staff, jti="ingestion", sid="ingestion", exp=far)


async def request_run(who: Principal, source_id: str) -> SourceRun:
    """A run asked for now: recorded, then enqueued (the task runs it once)."""
    source = await sources.get(source_id)
    run = SourceRun(
        key=f"{source.id}:manual:{PydanticObjectId()}",
        source_id=source.id,
        trigger="manual",
        requested_by=who.id,
    )
    await run.insert()
    from app.tasks.ingestion import run_source  # the task module imports this one

    await run_source.kiq(run_id=str(run.id))
    return run


async def scheduled_run(source_id: PydanticObjectId, period: str) -> SourceRun:
    """The run of one due period (the same key for every attempt at it)."""
    run = SourceRun(key=f"{source_id}:{period}", source_id=source_id, trigger="schedule")
    try:
        await run.insert()
    except DuplicateKeyError:  # this period's run exists (an earlier attempt made it)
        existing = await SourceRun.find_one({"key": run.key})
        if existing is None:
            raise
        return existing
    return run


async def _claim(run_id: PydanticObjectId) -> SourceRun | None:
    now = utcnow()
    doc = await SourceRun.get_motor_collection().find_one_and_update(
        {
            "_id": run_id,
            "$or": [
                {"status": "queued"},
                {"status": "running", "claim_until": {"$lte": now}},  # its worker died
            ],
        },
        {"$set": {"status": "running", "started_at": now, "claim_until": now + RUN_LEASE}},
        return_document=ReturnDocument.AFTER,
    )
    return SourceRun.model_validate(doc) if doc else None


class Report:
    def __init__(self) -> None:
        self.counts = RunCounts()
        self.entries: list[EntryReport] = []

    def add(
        self, entry: Entry, outcome: EntryOutcome, item: Any = None, reason: str | None = None
    ) -> None:
        if outcome in ("created", "updated", "revised", "unchanged"):
            field = "updated" if outcome == "revised" else outcome
            setattr(self.counts, field, getattr(self.counts, field) + 1)
        elif outcome == "skipped":
            self.counts.skipped += 1
        else:
            self.counts.errors += 1
        if (reason or outcome not in ("created", "unchanged")) and len(
            self.entries
        ) < MAX_REPORTED_ENTRIES:
            item_id = str(item.id) if item is not None and item.id is not None else None
            self.entries.append(
                EntryReport(
                    external_id=entry.external_id[:500],
                    outcome=outcome,
                    item_id=item_id,
                    reason=reason,
                )
            )


async def execute(settings: Settings, run_id: str) -> SourceRun | None:
    """Run it if nobody else is (or their lease ran out); None when it was not ours."""
    run = await _claim(PydanticObjectId(run_id))
    if run is None:
        return None
    started = time.monotonic()
    source = await Source.get(run.source_id)
    report = Report()
    fields: dict[str, Any] = {}
    if source is None:
        fields = {"status": "failed", "error": "SOURCE_NOT_FOUND: the source was deleted"}
    else:
        fields = await _run(settings, source, run, report)
    finished = utcnow()
    fields.update(
        finished_at=finished,
        duration_ms=int((time.monotonic() - started) * 1000),
        counts=report.counts.model_dump(),
        entries=[e.model_dump() for e in report.entries],
        claim_until=None,
    )
    await SourceRun.get_motor_collection().update_one({"_id": run.id}, {"$set": fields})
    if source is not None:
        await Source.get_motor_collection().update_one(
            {"_id": source.id}, {"$set": {"last_run_id": run.id, "last_run_at": finished}}
        )
    log.info(
        "source_run_done",
        source_id=str(run.source_id),
        run_id=run_id,
        status=fields.get("status"),
        **report.counts.model_dump(),
    )
    return await SourceRun.get(run.id)


async def _run(
    settings: Settings, source: Source, run: SourceRun, report: Report
) -> dict[str, Any]:
    fetched: Fetched | None = None
    try:
        async with Fetcher(settings) as fetcher:
            fetched = await fetcher.fetch(
                source.url, etag=source.etag, last_modified=source.last_modified
            )
        if fetched.not_modified:
            return {"status": "succeeded", "not_modified": True}
        assert fetched.body is not None  # noqa: S101
        complete = await _ingest(settings, source, run, fetched, report)
        missing = await _missing(source, run) if complete else []
        report.counts.missing = len(missing)
        await Source.get_motor_collection().update_one(
            {"_id": source.id},
            {"$set": {"etag": fetched.etag, "last_modified": fetched.last_modified}},
        )
        return {"status": "succeeded", "missing": missing[:MAX_REPORTED_ENTRIES]}
    except (FetchRefused, SourceRefused) as exc:
        return {"status": "failed", "error": f"{exc.code}: {exc.message}"}
    except Exception as exc:  # never leave a run "running": the next run tries again
        log.exception("source_run_crashed", source_id=str(source.id), run_id=str(run.id))
        return {"status": "failed", "error": f"INTERNAL_ERROR: {type(exc).__name__}"}
    finally:
        if fetched is not None:
            fetched.close()


async def _ingest(
    settings: Settings, source: Source, run: SourceRun, fetched: Fetched, report: Report
) -> bool:
    """Every entry of the fetched body; False when the run stopped early (entry limit)."""
    assert fetched.body is not None  # noqa: S101
    kind = KINDS[source.target]
    who: Viewer = await viewer(actor(source.created_by))
    to = Target(
        kind=kind,
        target=source.target,
        who=who,
        origin=f"source:{source.id}",
        refs=await ActiveSlugs.load(),
        fetched_at=utcnow(),
        source_id=source.id,
        run_id=run.id,
    )
    context = ParseContext(
        base_url=fetched.url,
        timezone=source.defaults.timezone,
        horizon_days=settings.ingest_ical_horizon_days,
    )
    entries: Iterator[Entry] = parsers.parse(source.kind, fetched.body, context)
    if source.kind in WHOLE_DOCUMENT:  # never more than the run takes (+1: "over the limit")
        first = itertools.islice(entries, settings.ingest_max_entries + 1)
        entries = iter(await asyncio.to_thread(list, first))
    for number, entry in enumerate(entries, start=1):
        if number > settings.ingest_max_entries:
            report.add(
                entry,
                "skipped",
                reason=f"over the limit of {settings.ingest_max_entries} entries per run",
            )
            return False
        report.counts.fetched += 1
        await _one(to, source, entry, report)
        if number % 200 == 0:
            await asyncio.sleep(0)
    return True


async def _one(to: Target, source: Source, entry: Entry, report: Report) -> None:
    if entry.problem:
        await still_listed(to, entry.external_id)
        report.add(entry, "skipped", reason=entry.problem)
        return
    try:
        body, notes = mapping.entry_body(source.target, entry, source, to.refs)
        data = mapping.validate_body(source.target, body)
        result = await upsert(to, entry.external_id, data, entry.url)
    except mapping.Refused as exc:
        await still_listed(to, entry.external_id)
        report.add(entry, "skipped", reason=str(exc)[:1000])
        return
    except Exception as exc:
        log.warning("source_entry_failed", source_id=str(source.id), error=type(exc).__name__)
        report.add(entry, "error", reason=type(exc).__name__)
        return
    report.add(
        entry,
        result.outcome,
        result.item,
        "; ".join([*([result.reason] if result.reason else []), *notes]) or None,
    )
    if result.outcome in ("created", "updated", "revised") and result.item is not None:
        report.counts.duplicates += await dedupe.suggest(to.kind, source.target, result.item)


async def _missing(source: Source, run: SourceRun) -> list[str]:
    """Entries seen before that this complete run did not list: reported, never deleted."""
    cursor = IngestedEntry.get_motor_collection().find(
        {"origin": f"source:{source.id}", "last_run_id": {"$ne": run.id}}, {"external_id": 1}
    )
    return [doc["external_id"] async for doc in cursor]
