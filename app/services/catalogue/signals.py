"""The catalogue's one outward seam: after a change reached readers (an edit that went
live, an approved revision, a workflow transition, a moderation decision), tell whoever
follows items (`services/item_changes.py`: saved searches, savers, organisation members).
The catalogue knows nothing about them; this call only enqueues background work."""

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
