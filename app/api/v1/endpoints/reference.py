"""Public reference data (cacheable) — industries, types, communities, SDGs, tags."""

from fastapi import APIRouter, Request, Response

from app.api.http import not_modified
from app.api.openapi_contract import SENDS_ETAG
from app.api.routing import StrictRoute
from app.models.reference import ReferenceKind
from app.schemas.reference import ReferenceList
from app.services import reference as reference_service

router = APIRouter(prefix="/reference", tags=["reference"], route_class=StrictRoute)

CACHE_CONTROL = "public, max-age=300"


@router.get(
    "/{kind}",
    operation_id="reference_list",
    response_model=ReferenceList,
    responses={304: {"description": "Not modified (If-None-Match matched the ETag)"}},
    openapi_extra=SENDS_ETAG,
)
async def list_reference(
    kind: ReferenceKind, request: Request, response: Response
) -> ReferenceList | Response:
    """Active items of one kind, ordered. Send `If-None-Match` to get a 304 when unchanged."""
    items, etag = await reference_service.list_items(kind)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return ReferenceList(items=items)
