"""Staff and admins: ingestion sources, their runs, running one now."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import PathKey, StaffDep
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.ingestion import (
    RunPage,
    RunRead,
    SourceCreate,
    SourcePage,
    SourceQuery,
    SourceRead,
    SourceUpdate,
)
from app.schemas.query import PageQuery
from app.services.ingestion import runs, sources

router = APIRouter(prefix="/sources", tags=["admin"], route_class=StrictRoute)
LOCATION = {"$ref": "#/components/headers/Location"}
ORGANISATION = {404: ["ORGANISATION_NOT_FOUND"], 422: ["UNKNOWN_REFERENCE"]}


@router.get("", operation_id="admin_sources_list")
async def list_sources(_: StaffDep, query: Annotated[SourceQuery, Query()]) -> SourcePage:
    """Sources, newest first."""
    items, cursor, total = await sources.page(query)
    return SourcePage(
        items=[SourceRead.from_doc(s) for s in items], next_cursor=cursor, total=total
    )


@router.post(
    "",
    operation_id="admin_sources_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(404, 422, codes=ORGANISATION),
)
async def create_source(who: StaffDep, body: SourceCreate, response: Response) -> SourceRead:
    """A source polled every `interval_minutes` (first run one interval from now, or at once
    with `POST …/run`). Its entries arrive as `pending_review` items of the organisation."""
    source = await sources.create(who, body)
    set_created(response, f"/api/v1/admin/sources/{source.id}")
    return SourceRead.from_doc(source)


@router.get("/{source_id}", operation_id="admin_sources_get", responses=error_responses(404))
async def get_source(_: StaffDep, source_id: PathKey) -> SourceRead:
    """One source with its schedule and last run."""
    return SourceRead.from_doc(await sources.get(source_id))


@router.patch(
    "/{source_id}",
    operation_id="admin_sources_update",
    # 412: another change landed between the read and the write (one conditional update)
    responses=error_responses(
        404, 412, 422, codes={412: ["VERSION_MISMATCH"], 422: ["UNKNOWN_REFERENCE"]}
    ),
)
async def update_source(who: StaffDep, source_id: PathKey, body: SourceUpdate) -> SourceRead:
    """Change the name, URL, defaults, schedule or enabled flag (audited). Disabling stops
    its schedule; enabling or a new interval schedules the next run one interval on."""
    return SourceRead.from_doc(await sources.update(who, source_id, body))


@router.post(
    "/{source_id}/run",
    operation_id="admin_sources_run",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        202: {"description": "Accepted: the queued run", "headers": {"Location": LOCATION}},
        **error_responses(404),
    },
)
async def run_source(who: StaffDep, source_id: PathKey, response: Response) -> RunRead:
    """Run the source now, in the background: the answer is the queued run (`Location`);
    read it back for its counts and per-entry report."""
    run = await runs.request_run(who, source_id)
    response.headers["Location"] = f"/api/v1/admin/sources/{source_id}/runs/{run.id}"
    return RunRead.from_doc(run)


@router.get("/{source_id}/runs", operation_id="admin_sources_runs", responses=error_responses(404))
async def list_runs(
    _: StaffDep, source_id: PathKey, query: Annotated[PageQuery, Query()]
) -> RunPage:
    """The source's runs, newest first: fetched, created, updated, unchanged, duplicates
    suspected, skipped (each with its reason), errors, missing entries, duration."""
    items, cursor, total = await sources.runs(source_id, query)
    return RunPage(items=[RunRead.from_doc(r) for r in items], next_cursor=cursor, total=total)


@router.get(
    "/{source_id}/runs/{run_id}",
    operation_id="admin_sources_run_get",
    responses=error_responses(404),
)
async def get_run(_: StaffDep, source_id: PathKey, run_id: PathKey) -> RunRead:
    """One run with its report."""
    return RunRead.from_doc(await sources.get_run(source_id, run_id))
