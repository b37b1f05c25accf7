"""An item became public: match it against every saved search (the percolator, in memory)
and notify each matching user once per item, respecting preferences and the search's own
alert frequency. Run by the worker (`alerts.percolate`); safe to run twice."""

from __future__ import annotations

import contextlib

import structlog
from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.config import Settings
from app.models.base import utcnow
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.event import Event
from app.models.notification import Reason, Subject
from app.models.opportunity import Opportunity
from app.models.saved_search import SavedSearchMatch, SearchKind
from app.services.notifications import Draft, notify, preferences
from app.services.saved_searches import queries
from app.services.saved_searches.percolator import Stored, shared

log = structlog.get_logger("app.saved_searches")

MODELS: dict[str, type[Opportunity] | type[Event]] = {"opportunity": Opportunity, "event": Event}
PLURAL = {"opportunity": "opportunities", "event": "events"}


def match_draft(settings: Settings, kind: SearchKind, item: CatalogueItem, search: Stored) -> Draft:
    link = f"{settings.frontend_url}/{PLURAL[kind]}/{item.slug}"
    return Draft(
        category="saved_search_match",
        event="new_match",
        dedupe_key=f"match:{kind}:{item.id}",  # once per user and item, whichever search
        title=f"New {kind} for “{search.name}”: {item.title}",
        body=f"“{item.title}” by {item.organisation_name} matches your saved search “{search.name}”.",
        subject=Subject(kind=kind, id=str(item.id), title=item.title),
        reason=Reason(
            type="saved_search",
            id=str(search.id),
            label=search.name,
            preference="saved_search_match",
        ),
        link=link,
        template="saved_search_alert",
        context={
            "search_name": search.name,
            "item_title": item.title,
            "organisation": item.organisation_name,
        },
        email_override=search.alert,
    )


async def percolate(settings: Settings, kind: SearchKind, item_id: str) -> int:
    """Notify the owners of the saved searches the item matches; how many matched."""
    item = await MODELS[kind].get(PydanticObjectId(item_id))
    if item is None or item.status is not ItemStatus.published:
        return 0
    percolator = shared()
    await percolator.refresh()
    hits = percolator.match(kind, queries.item_fields(item), utcnow())
    users = sorted({h.user_id for h in hits}, key=str)
    prefs = await preferences.get_many(users)
    now = utcnow()
    for search in hits:
        with contextlib.suppress(DuplicateKeyError):  # matched by an earlier run: fine
            await SavedSearchMatch(
                search_id=search.id,
                user_id=search.user_id,
                item_kind=kind,
                item_id=item.id,
                matched_at=now,
            ).insert()
        await notify(
            search.user_id, match_draft(settings, kind, item, search), prefs[search.user_id]
        )
    log.info("item_percolated", kind=kind, item_id=item_id, candidates=len(hits), users=len(users))
    return len(hits)
