"""The use cases every kind shares, bound to one kind: one entry point per use case.

Each kind's package builds one `KindService` (or a subclass with its own use cases:
saves and applications, RSVPs…), and its endpoints call that object only. Every method
takes the `Viewer` (api/deps.py's `ViewerDep`), enforces object-level authorization and
returns what the presenters need (`ItemView`, `Listing`, `Edited`), never a schema.
"""

from __future__ import annotations

from typing import Generic

from pydantic import BaseModel

from app.schemas.catalogue import CatalogueQuery
from app.services.catalogue import edit, review, search, workflow
from app.services.catalogue.access import (
    Edited,
    ItemView,
    Listing,
    get_visible,
    show_one,
)
from app.services.catalogue.kinds import CatalogueKind, T
from app.services.catalogue.viewer import Viewer


class KindService(Generic[T]):
    def __init__(self, kind: CatalogueKind[T]) -> None:
        self.kind = kind

    async def view(self, who: Viewer, item: T) -> ItemView[T]:
        return await show_one(self.kind, who, item)

    async def search(self, who: Viewer, query: CatalogueQuery) -> Listing[T]:
        return await search.list_items(self.kind, who, query)

    async def read(self, who: Viewer, key: str) -> ItemView[T]:
        """By id or slug; 404 unless the caller may see it."""
        return await self.view(who, await get_visible(self.kind, who, key))

    async def create(self, who: Viewer, body: BaseModel) -> ItemView[T]:
        return await self.view(who, await edit.create(self.kind, who, body.model_dump()))

    async def update(
        self, who: Viewer, key: str, body: BaseModel, expected_version: int | None
    ) -> Edited[T]:
        changes = body.model_dump(exclude_unset=True)
        item, queued = await edit.update(self.kind, who, key, changes, expected_version)
        return Edited(await self.view(who, item), queued)

    async def transition(
        self,
        who: Viewer,
        key: str,
        action: str,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> ItemView[T]:
        item = await workflow.transition(self.kind, who, key, action, reason, expected_version)
        return await self.view(who, item)

    async def archive(self, who: Viewer, key: str) -> None:
        await workflow.transition(self.kind, who, key, "archive")

    async def purge(self, who: Viewer, key: str) -> None:
        await workflow.purge(self.kind, who, key)

    # --- pending revisions ---

    async def revision(self, who: Viewer, key: str) -> T:
        """The item with its pending revision (present it with `RevisionRead.of`)."""
        return await review.get_revision(self.kind, who, key)

    async def approve_revision(
        self, who: Viewer, key: str, expected_version: int | None
    ) -> ItemView[T]:
        item = await review.approve_revision(self.kind, who, key, expected_version)
        return await self.view(who, item)

    async def reject_revision(
        self, who: Viewer, key: str, reason: str, expected_version: int | None
    ) -> ItemView[T]:
        item = await review.reject_revision(self.kind, who, key, reason, expected_version)
        return await self.view(who, item)

    async def withdraw_revision(self, who: Viewer, key: str, expected_version: int | None) -> None:
        await review.withdraw_revision(self.kind, who, key, expected_version)
