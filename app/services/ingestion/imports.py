"""Bulk imports for staff: a CSV or JSON Lines file of opportunities or events.

The file is read row by row from the spooled upload (never whole). Each row is validated
exactly as a create request (the create schema, the rule function, reference slugs, the
caller's right to the organisation), against reference data loaded once. A dry run reports
every problem (line, field, error) and writes nothing; a confirmed import upserts the valid
rows by their key — the `external_id` column, else the row's content — so importing the
same file again changes nothing, and reports the rest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import IO, Any

from app.core.exceptions import AppError, ValidationFailed
from app.models.base import utcnow
from app.schemas.ingestion import (
    MAX_REPORTED_PROBLEMS,
    ImportFormat,
    ImportProblem,
    ImportQuery,
    ImportReport,
)
from app.services.auth import Principal
from app.services.catalogue import edit as catalogue_edit
from app.services.catalogue import viewer
from app.services.ingestion import dedupe, rows
from app.services.ingestion.entries import Target, upsert
from app.services.ingestion.exports import EXPORT_ONLY
from app.services.ingestion.mapping import Refused, refusal, validate_body
from app.services.ingestion.merge import KINDS
from app.services.reference import ActiveSlugs

SUFFIXES: dict[str, ImportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def file_format(query: ImportQuery, filename: str | None) -> ImportFormat:
    if query.format is not None:
        return query.format
    name = (filename or "").lower()
    for suffix, fmt in SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise ValidationFailed(
        "Say format=csv or format=jsonl (or name the file .csv / .jsonl).",
        code="IMPORT_FORMAT_UNKNOWN",
        details=[{"loc": ["query", "format"], "msg": "csv or jsonl"}],
    )


class Tally:
    def __init__(self) -> None:
        self.rows = self.valid = self.invalid = 0
        self.created = self.updated = self.unchanged = 0
        self.problems: list[ImportProblem] = []
        self.truncated = False

    def refuse(self, line: int, problems: list[tuple[str, str]]) -> None:
        self.invalid += 1
        for field, error in problems:
            if len(self.problems) >= MAX_REPORTED_PROBLEMS:
                self.truncated = True
                return
            self.problems.append(ImportProblem(line=line, field=field, error=error[:500]))


async def run_import(
    who: Principal, query: ImportQuery, file: IO[bytes], filename: str | None
) -> ImportReport:
    started = time.monotonic()
    fmt = file_format(query, filename)
    target = query.kind
    kind = KINDS[target]
    to = Target(
        kind=kind,
        target=target,
        who=await viewer(who),
        origin=f"import:{target}",
        refs=await ActiveSlugs.load(),
        fetched_at=utcnow(),
    )
    file.seek(0)
    source: Iterator[rows.Row] = rows.read_csv(file) if fmt == "csv" else rows.read_jsonl(file)
    tally = Tally()
    for line, row, problem in source:
        tally.rows += 1
        if problem:
            tally.refuse(line, [("", problem)])
            continue
        await _row(to, query, line, row, tally)
    return ImportReport(
        dry_run=query.dry_run,
        kind=query.kind,
        rows=tally.rows,
        valid=tally.valid,
        invalid=tally.invalid,
        created=tally.created,
        updated=tally.updated,
        unchanged=tally.unchanged,
        problems=tally.problems,
        problems_truncated=tally.truncated,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


async def _row(
    to: Target, query: ImportQuery, line: int, row: dict[str, Any], tally: Tally
) -> None:
    row = {k: v for k, v in row.items() if k not in EXPORT_ONLY}
    external_id = str(row.pop("external_id", "") or "")[:200]
    if query.organisation_id and not row.get("organisation_id"):
        row["organisation_id"] = query.organisation_id
    key = external_id or rows.row_key(row)
    try:
        data = validate_body(to.target, row)
        if query.dry_run:
            organisation = await to.organisation(str(data["organisation_id"]))
            await catalogue_edit.prepare(
                to.kind, to.who, data, refs=to.refs, organisation=organisation, sanitise=False
            )
            tally.valid += 1
            return
        result = await upsert(to, key, data, None)
    except Refused as exc:
        tally.refuse(line, exc.problems)
        return
    except ValidationFailed as exc:
        tally.refuse(line, refusal(exc).problems)
        return
    except AppError as exc:  # the organisation is unknown, or not the caller's to fill
        field = "organisation_id" if "ORGANISATION" in exc.code else ""
        tally.refuse(line, [(field, exc.message)])
        return
    tally.valid += 1
    if result.outcome == "created":
        tally.created += 1
    elif result.outcome in ("updated", "revised"):
        tally.updated += 1
    else:
        tally.unchanged += 1
    if result.outcome in ("created", "updated", "revised") and result.item is not None:
        await dedupe.suggest(to.kind, to.target, result.item)
