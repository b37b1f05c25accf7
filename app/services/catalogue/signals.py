"""The catalogue's one outward seam: after a change reached readers (an edit that went
live, an approved revision, a workflow transition, a moderation decision), tell whoever
follows items (`services/item_changes.py`: saved searches, savers, organisation members)
and whoever listens for item changes (`services/signals.py`: recommendations), with the
fields that changed. The catalogue knows nothing about them; this only enqueues work."""

from __future__ import annotations

from app.models.catalogue import CatalogueItem
from app.services.catalogue.kinds import CatalogueKind, T
from app.services.catalogue.viewer import Viewer


async def changed(
    kind: CatalogueKind[T],
    who: Viewer | None,
    before: CatalogueItem | None,
    after: CatalogueItem,
    action: str,
    reason: str | None = None,
) -> None:
    from app.services import item_changes

    actor = str(who.user.id) if who is not None and who.principal is not None else None
    await item_changes.after_change(
        kind.entity, kind.moderated, before, after, actor, action, reason
    )
    await kind.announce(after.id, changed_fields(before, after))


def changed_fields(before: CatalogueItem | None, after: CatalogueItem) -> set[str]:
    """The fields whose stored values differ (every field for a new item)."""
    new = after.model_dump()
    if before is None:
        return set(new)
    old = before.model_dump()
    return {name for name, value in new.items() if old.get(name) != value}
