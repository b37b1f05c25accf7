"""The catalogue: what opportunities, events (and later kinds) share, one job per module.

- `kinds`     what a kind is, and the hooks where kinds differ
- `viewer`    who is asking (loaded once per request by `ViewerDep`)
- `access`    loading with object-level authorization; what a caller sees (`ItemView`)
- `edit`      create and update (references, rules, staff-only fields, pending revisions)
- `derive`    derived fields (search tokens, organisation name, the kind's own)
- `review`    pending revisions: see, approve, reject, withdraw
- `revisions` how member edits pile up into one pending revision (pure)
- `workflow`  status transitions, cascades from organisations, purge
- `search`    lists: filters, relevance, facets, incremental sync
- `geo`       items near a point
- `service`   `KindService`: the shared use cases bound to one kind
"""

from app.services.catalogue.access import (
    Edited,
    ItemView,
    Listing,
    Rows,
    get_for_own_row,
    get_managed,
    get_visible,
    is_public,
    show,
    show_one,
    visible_to,
)
from app.services.catalogue.derive import derive, refresh_organisation, with_derived
from app.services.catalogue.kinds import CatalogueKind, merged, reject
from app.services.catalogue.service import KindService
from app.services.catalogue.viewer import Viewer, viewer
from app.services.catalogue.workflow import cascade_archive

__all__ = [
    "CatalogueKind",
    "Edited",
    "ItemView",
    "KindService",
    "Listing",
    "Rows",
    "Viewer",
    "cascade_archive",
    "derive",
    "get_for_own_row",
    "get_managed",
    "get_visible",
    "is_public",
    "merged",
    "refresh_organisation",
    "reject",
    "show",
    "show_one",
    "viewer",
    "visible_to",
    "with_derived",
]
