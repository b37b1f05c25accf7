"""Who is asking: the caller and their role in each organisation they belong to.

Loaded once per request by the `ViewerDep` dependency (api/deps.py) and handed to every
catalogue service; what the viewer may do with an item is `capabilities.TABLE`'s answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from beanie import PydanticObjectId

from app.models.catalogue import CatalogueItem
from app.models.organisation import OrgRole
from app.services import capabilities
from app.services.access import is_staff, member_roles
from app.services.auth import Principal
from app.services.capabilities import Action


@dataclass
class Viewer:
    principal: Principal | None
    org_roles: dict[PydanticObjectId, OrgRole] = field(default_factory=dict)

    @property
    def staff(self) -> bool:
        return is_staff(self.principal)

    @property
    def user(self) -> Principal:
        """The signed-in caller (routes that need one depend on `SignedInViewer`)."""
        if self.principal is None:  # pragma: no cover - the dependency answered 401 already
            raise RuntimeError("this use case needs a signed-in caller")
        return self.principal

    def can(self, action: Action, organisation_id: PydanticObjectId | None) -> bool:
        role = self.org_roles.get(organisation_id) if organisation_id else None
        return capabilities.allows(self.principal, role, action)

    def require(self, action: Action, organisation_id: PydanticObjectId | None) -> None:
        role = self.org_roles.get(organisation_id) if organisation_id else None
        capabilities.require(self.principal, role, action)

    def manages(self, item: CatalogueItem) -> bool:
        """Sees the item whatever its status (drafts, reasons, links)."""
        return self.can(Action.item_view_unpublished, item.organisation_id)

    @property
    def org_ids(self) -> set[PydanticObjectId]:
        """Organisations whose non-public items the caller sees (for list filters)."""
        return {o for o in self.org_roles if self.can(Action.item_view_unpublished, o)}


async def viewer(principal: Principal | None) -> Viewer:
    return Viewer(principal, await member_roles(principal))
