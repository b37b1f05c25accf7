"""Staff and admins: suggested duplicates — merge or dismiss."""

from typing import Annotated

from fastapi import APIRouter, Body, Query

from app.api.deps import PathKey, StaffDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.ingestion import DuplicatePage, DuplicateQuery, DuplicateRead, MergeRequest
from app.services.ingestion import merge

router = APIRouter(prefix="/duplicates", tags=["admin"], route_class=StrictRoute)
MERGE_CONFLICTS = [
    "DUPLICATE_DISMISSED",
    "DUPLICATE_MERGE_CONFLICT",
    "DUPLICATE_KEEPER_GONE",
]


@router.get("", operation_id="admin_duplicates_list")
async def list_duplicates(_: StaffDep, query: Annotated[DuplicateQuery, Query()]) -> DuplicatePage:
    """Suggested duplicates (default: open ones), newest first, each with its tier, score,
    reason and both items."""
    rows, cursor, total = await merge.page(query)
    return DuplicatePage(
        items=[DuplicateRead.of(s, items) for s, items in rows], next_cursor=cursor, total=total
    )


@router.post(
    "/{duplicate_id}/merge",
    operation_id="admin_duplicates_merge",
    responses=error_responses(404, 409, 422, codes={409: MERGE_CONFLICTS, 422: ["INVALID_KEEP"]}),
)
async def merge_duplicate(
    who: StaffDep,
    duplicate_id: PathKey,
    body: Annotated[MergeRequest | None, Body()] = None,
) -> DuplicateRead:
    """Keep one item (`keep`, default the first of `item_ids`); the other is archived and
    its id and slug lead to the kept one; its saves, RSVPs, dismissals, saved-search
    matches, reminders and notifications move there. Safe to repeat: a retried or
    interrupted merge finishes the same way."""
    return DuplicateRead.of(await merge.merge(who, duplicate_id, body.keep if body else None))


@router.post(
    "/{duplicate_id}/dismiss",
    operation_id="admin_duplicates_dismiss",
    responses=error_responses(404, 409, codes={409: ["DUPLICATE_ALREADY_MERGED"]}),
)
async def dismiss_duplicate(who: StaffDep, duplicate_id: PathKey) -> DuplicateRead:
    """Not a duplicate: the pair is not suggested again. Repeating it changes nothing."""
    return DuplicateRead.of(await merge.dismiss(who, duplicate_id))
