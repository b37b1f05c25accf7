"""The caller's saved searches and what they matched."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import CurrentUser, SettingsDep
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.saved_search import (
    MatchPage,
    MatchQuery,
    MatchRead,
    SavedSearchCreate,
    SavedSearchPage,
    SavedSearchQuery,
    SavedSearchRead,
    SavedSearchUpdate,
)
from app.services.saved_searches import service as saved_searches

router = APIRouter(
    prefix="/me/saved-searches",
    tags=["notifications"],
    responses=error_responses(401),
    route_class=StrictRoute,
)


@router.post(
    "",
    operation_id="saved_searches_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 422),
)
async def create(
    principal: CurrentUser, settings: SettingsDep, body: SavedSearchCreate, response: Response
) -> SavedSearchRead:
    """Save an opportunities or events query (validated like the list itself: 422 with its
    codes). At most SAVED_SEARCHES_PER_USER (409 `SAVED_SEARCH_LIMIT`). New public items
    that match notify you, by e-mail as `alert` says."""
    doc = await saved_searches.create(
        settings, principal, body.name, body.kind, body.query, body.alert
    )
    set_created(response, f"/api/v1/me/saved-searches/{doc.id}")
    return SavedSearchRead.from_doc(doc)


@router.get("", operation_id="saved_searches_list")
async def list_saved(
    principal: CurrentUser, query: Annotated[SavedSearchQuery, Query()]
) -> SavedSearchPage:
    """Your saved searches, newest first."""
    items, cursor, total = await saved_searches.list_mine(principal, query.kind, query.page)
    return SavedSearchPage(
        items=[SavedSearchRead.from_doc(d) for d in items], next_cursor=cursor, total=total
    )


@router.get("/{search_id}", operation_id="saved_searches_get", responses=error_responses(404))
async def get_saved(principal: CurrentUser, search_id: str) -> SavedSearchRead:
    """One of your saved searches."""
    return SavedSearchRead.from_doc(await saved_searches.get(principal, search_id))


@router.patch(
    "/{search_id}", operation_id="saved_searches_update", responses=error_responses(404, 422)
)
async def update_saved(
    principal: CurrentUser, search_id: str, body: SavedSearchUpdate
) -> SavedSearchRead:
    """Rename it, change its query (validated again) or its alert frequency."""
    changes = body.model_dump(exclude_unset=True)
    return SavedSearchRead.from_doc(await saved_searches.update(principal, search_id, changes))


@router.delete(
    "/{search_id}",
    operation_id="saved_searches_delete",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(404),
)
async def delete_saved(principal: CurrentUser, search_id: str) -> Response:
    """Delete it (it stops matching at once)."""
    await saved_searches.delete(principal, search_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{search_id}/matches",
    operation_id="saved_searches_matches",
    responses=error_responses(404, 422),
)
async def matches(
    principal: CurrentUser, search_id: str, query: Annotated[MatchQuery, Query()]
) -> MatchPage:
    """Public items it matched since you last looked, newest first. Asking without a cursor
    starts a new look (the next one shows what arrives after now); pages with a cursor stay
    in the same window."""
    rows, cursor, since, until = await saved_searches.matches(principal, search_id, query.page)
    return MatchPage(
        items=[
            MatchRead(
                item_kind=m.item_kind,
                item_id=str(m.item_id),
                title=item.title,
                slug=item.slug,
                matched_at=m.matched_at,
            )
            for m, item in rows
        ],
        next_cursor=cursor,
        since=since,
        until=until,
    )
