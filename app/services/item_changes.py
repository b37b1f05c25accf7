"""What a live change to a catalogue item means for the people following it.

The catalogue calls `after_change` (through `catalogue/signals.py`) wherever a change
reaches readers: staff edits, approved revisions, workflow transitions — and ingestion,
which approves through the same path. From the item before and after, it decides:

- the item became public, or its public content changed → percolate it against saved
  searches (matches are once per user and item, so re-percolating is harmless);
- what readers rely on changed (deadline, amounts, eligibility, status, links; an event's
  dates, place, link, price) → field-level notes to the people who saved it (RSVPed, for
  events); cosmetic edits (title, description, tags…) never notify;
- an event was cancelled → an RSVP notification to everyone who RSVPed;
- a moderation decision → the organisation's members are told the outcome.

The work itself runs on the worker (`app/tasks/alerts.py`); the diff is taken here, when
the change happens, and travels with the task.
"""

from __future__ import annotations

from typing import Any

from app.models.catalogue import CatalogueItem, ItemStatus

RELIED: dict[str, tuple[str, ...]] = {
    "opportunity": (
        "status", "deadline", "rolling", "amount_min", "amount_max", "currency",
        "eligibility", "application_url",
    ),
    "event": (
        "status", "start_at", "end_at", "timezone", "format", "venue", "online_url",
        "registration_deadline", "price", "currency",
    ),
}  # fmt: skip
# What a saved search can match on besides the moderated fields.
SEARCHABLE = frozenset({"tags", "industries", "sdgs", "target_communities", "search_tokens"})
OUTCOMES = {
    "approve": "approved",
    "reject": "changes_requested",
    "revision_approve": "revision_approved",
    "revision_reject": "revision_rejected",
}
FOLLOWED = (ItemStatus.published, ItemStatus.closed)  # states in which savers see the item


def _plain(item: CatalogueItem, name: str) -> Any:
    value = item.model_dump(mode="json", include={name}).get(name)
    return value


def field_changes(entity: str, before: CatalogueItem, after: CatalogueItem) -> list[dict[str, Any]]:
    out = []
    for name in RELIED.get(entity, ()):
        old, new = _plain(before, name), _plain(after, name)
        if old != new:
            out.append({"field": name, "before": old, "after": new})
    return out


def _content_changed(
    moderated: frozenset[str], before: CatalogueItem, after: CatalogueItem
) -> bool:
    names = moderated | SEARCHABLE
    return any(_plain(before, n) != _plain(after, n) for n in names)


async def after_change(
    entity: str,
    moderated: frozenset[str],
    before: CatalogueItem | None,
    after: CatalogueItem,
    actor_id: str | None,
    action: str,
    reason: str | None = None,
) -> None:
    from app.tasks import alerts  # the task module imports services

    item_id = str(after.id)
    public = after.status is ItemStatus.published
    became_public = public and (before is None or before.status is not ItemStatus.published)
    if public and (became_public or before is None or _content_changed(moderated, before, after)):
        await alerts.enqueue(alerts.percolate, kind=entity, item_id=item_id)
    if before is not None and before.status in FOLLOWED:
        changes = field_changes(entity, before, after)
        if changes:
            await alerts.enqueue(
                alerts.item_changed,
                kind=entity,
                item_id=item_id,
                version=after.version,
                changes=changes,
            )
    if action in OUTCOMES:
        await alerts.enqueue(
            alerts.moderation_outcome,
            kind=entity,
            item_id=item_id,
            outcome=OUTCOMES[action],
            version=after.version,
            reason=reason,
            actor_id=actor_id,
        )
