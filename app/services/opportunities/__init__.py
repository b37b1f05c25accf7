"""Opportunities: the catalogue kind (`kind.py`) and its own use cases — views counted once
a day, saves and applications (`interactions.py`). Endpoints call `opportunities` only."""

from __future__ import annotations

from app.models.interaction import ApplicationStatus, OpportunityInteraction
from app.models.opportunity import Opportunity
from app.schemas.interaction import MyOpportunityQuery
from app.services.catalogue import ItemView, KindService, Rows, Viewer, get_visible, is_public
from app.services.opportunities import interactions
from app.services.opportunities.kind import KIND, effective_status

__all__ = ["KIND", "OpportunityService", "effective_status", "opportunities"]


class OpportunityService(KindService[Opportunity]):
    async def read(self, who: Viewer, key: str) -> ItemView[Opportunity]:
        """By id or slug. Signed-in views of a published item count once per user a day."""
        item = await get_visible(self.kind, who, key)
        if who.principal is not None and is_public(item):
            await interactions.count_view(who.principal, item)
        return await self.view(who, item)

    async def save(self, who: Viewer, key: str) -> OpportunityInteraction:
        return await interactions.set_saved(who, key, True)

    async def unsave(self, who: Viewer, key: str) -> OpportunityInteraction:
        return await interactions.set_saved(who, key, False)

    async def set_application(
        self, who: Viewer, key: str, status: ApplicationStatus
    ) -> OpportunityInteraction:
        return await interactions.set_application(who, key, status)

    async def clear_application(self, who: Viewer, key: str) -> OpportunityInteraction:
        return await interactions.set_application(who, key, None)

    async def mine(
        self, who: Viewer, query: MyOpportunityQuery
    ) -> Rows[OpportunityInteraction, Opportunity]:
        return await interactions.mine(who, query.status, query.page)


opportunities = OpportunityService(KIND)
