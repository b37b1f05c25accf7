"""Recommendation tasks, and the listeners that enqueue them when something that matters
changes (connected when this module is imported — by the API's runtime and the worker's).

- A profile's matching facts changed: re-rank that user (`recommendations.refresh_user`).
- A public item changed: bump the kind's generation (every process's index and every cached
  ranking now knows it is stale) and re-rank the recently active users
  (`recommendations.refresh_active`); everyone else is re-ranked when they next ask.

Both are idempotent: a ranking is a function of the current state, written with an upsert
on the unique (user, kind) key; a refresh whose generation is no longer current skips.
"""

from __future__ import annotations

from typing import cast

import structlog
from beanie import PydanticObjectId

from app.services import signals
from app.services.recommendations import engine, index, service
from app.services.recommendations.facts import Kind
from app.tasks import runtime
from app.tasks.registry import task

log = structlog.get_logger("app.recommendations")

KINDS = ("opportunity", "event")
# Item fields that change neither an item's card nor its ranking.
IRRELEVANT_ITEM_FIELDS = frozenset(
    {
        "pending_revision",
        "revision_decision",
        "status_reason",
        "status_before_archive",
        "ever_published",
        "updated_at",
        "version",
        "capacity",
    }
)
# Profile fields that change neither matching nor text similarity.
RELEVANT_PROFILE_FIELDS = frozenset(
    {
        "bio",
        "stage",
        "founded_year",
        "team_size",
        "revenue_band",
        "industries",
        "country",
        "region",
        "target_communities",
        "sdgs",
        "interests",
        "funding",
    }
)


@task("recommendations.refresh_user")
async def refresh_user(user_id: str) -> None:
    computed = await service.refresh_user(engine.current(), PydanticObjectId(user_id))
    log.info("recommendations_refreshed", user_id=user_id, kinds=computed)


@task("recommendations.refresh_active")
async def refresh_active(kind: str, generation: int) -> None:
    users = await service.refresh_active(engine.current(), cast(Kind, kind), generation)
    log.info("recommendations_refreshed_active", kind=kind, generation=generation, users=users)


@signals.profile_changed.connect
async def _profile_changed(change: signals.ProfileChanged) -> None:
    if change.fields & RELEVANT_PROFILE_FIELDS and runtime.current() is not None:
        await refresh_user.kiq(user_id=str(change.user_id))


@signals.item_changed.connect
async def _item_changed(change: signals.ItemChanged) -> None:
    if change.entity not in KINDS or not change.fields - IRRELEVANT_ITEM_FIELDS:
        return
    kind = cast(Kind, change.entity)
    generation = await index.bump(kind)
    if runtime.current() is not None:
        await refresh_active.kiq(kind=kind, generation=generation)
