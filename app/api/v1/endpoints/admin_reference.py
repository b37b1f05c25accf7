"""Admin: create, update and retire reference items (audited)."""

from fastapi import APIRouter, Response, status

from app.api.deps import AdminDep, PathKey
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.models.reference import ReferenceKind
from app.schemas.common import error_responses
from app.schemas.reference import ReferenceCreate, ReferenceList, ReferenceRead, ReferenceUpdate
from app.services import reference as reference_service

router = APIRouter(prefix="/reference", tags=["admin"], route_class=StrictRoute)
NOT_FOUND = error_responses(404, codes={404: ["REFERENCE_NOT_FOUND"]})


@router.get("/{kind}", operation_id="admin_reference_list")
async def list_all(_: AdminDep, kind: ReferenceKind) -> ReferenceList:
    """Every item of a kind, retired ones included."""
    items, _etag = await reference_service.list_items(kind, include_retired=True)
    return ReferenceList(items=items)


@router.post(
    "/{kind}",
    operation_id="admin_reference_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, codes={409: ["REFERENCE_SLUG_TAKEN"]}),
)
async def create(
    actor: AdminDep, kind: ReferenceKind, body: ReferenceCreate, response: Response
) -> ReferenceRead:
    """A new item of a kind (its slug is unique within the kind); audited."""
    item = await reference_service.create(actor, kind, body)
    set_created(response, f"/api/v1/admin/reference/{kind.value}/{item.slug}")
    return ReferenceRead.from_doc(item)


@router.get("/{kind}/{slug}", operation_id="admin_reference_get", responses=NOT_FOUND)
async def get(_: AdminDep, kind: ReferenceKind, slug: PathKey) -> ReferenceRead:
    """One item of a kind, retired or not."""
    return ReferenceRead.from_doc(await reference_service.get(kind, slug))


@router.patch("/{kind}/{slug}", operation_id="admin_reference_update", responses=NOT_FOUND)
async def update(
    actor: AdminDep, kind: ReferenceKind, slug: PathKey, body: ReferenceUpdate
) -> ReferenceRead:
    """Rename, describe, renumber, reorder, or (re)activate an item; audited."""
    return ReferenceRead.from_doc(await reference_service.update(actor, kind, slug, body))


@router.post("/{kind}/{slug}/retire", operation_id="admin_reference_retire", responses=NOT_FOUND)
async def retire(actor: AdminDep, kind: ReferenceKind, slug: PathKey) -> ReferenceRead:
    """Retired items stay on the documents that use them but can no longer be chosen."""
    return ReferenceRead.from_doc(await reference_service.retire(actor, kind, slug))
