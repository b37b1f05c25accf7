"""Admin: create, update and retire reference items (audited)."""

from fastapi import APIRouter, status

from app.api.deps import AdminDep
from app.api.routing import StrictRoute
from app.models.reference import ReferenceKind
from app.schemas.common import error_responses
from app.schemas.reference import ReferenceCreate, ReferenceList, ReferenceRead, ReferenceUpdate
from app.services import reference as reference_service

router = APIRouter(
    prefix="/reference", tags=["admin"], responses=error_responses(404), route_class=StrictRoute
)


@router.get("/{kind}", operation_id="admin_reference_list")
async def list_all(_: AdminDep, kind: ReferenceKind) -> ReferenceList:
    """Every item of a kind, retired ones included."""
    items, _etag = await reference_service.list_items(kind, include_retired=True)
    return ReferenceList(items=items)


@router.post(
    "/{kind}",
    operation_id="admin_reference_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409),
)
async def create(actor: AdminDep, kind: ReferenceKind, body: ReferenceCreate) -> ReferenceRead:
    return ReferenceRead.from_doc(await reference_service.create(actor, kind, body))


@router.patch("/{kind}/{slug}", operation_id="admin_reference_update")
async def update(
    actor: AdminDep, kind: ReferenceKind, slug: str, body: ReferenceUpdate
) -> ReferenceRead:
    return ReferenceRead.from_doc(await reference_service.update(actor, kind, slug, body))


@router.post("/{kind}/{slug}/retire", operation_id="admin_reference_retire")
async def retire(actor: AdminDep, kind: ReferenceKind, slug: str) -> ReferenceRead:
    """Retired items stay on the documents that use them but can no longer be chosen."""
    return ReferenceRead.from_doc(await reference_service.retire(actor, kind, slug))
