"""Staff and admins: bulk imports of opportunities and events (CSV or JSON Lines)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.api.deps import SettingsDep, StaffDep
from app.api.routing import StrictRoute
from app.api.uploads import UploadRoute, read_one_file
from app.schemas.common import error_responses
from app.schemas.ingestion import ImportQuery, ImportReport
from app.schemas.media import FILE_ONLY_SCHEMA
from app.services.ingestion import imports

router = APIRouter(prefix="/imports", tags=["admin"], route_class=StrictRoute)
# What the route itself refuses; a row's own problems are in the report, never an error.
IMPORT_CODES = {
    413: ["FILE_TOO_LARGE", "FIELD_TOO_LARGE", "PAYLOAD_TOO_LARGE"],
    415: ["MULTIPART_REQUIRED"],
    422: ["FILE_REQUIRED", "INVALID_MULTIPART", "IMPORT_FORMAT_UNKNOWN"],
}


async def create_import(
    who: StaffDep,
    request: Request,
    settings: SettingsDep,
    query: Annotated[ImportQuery, Query()],
) -> ImportReport:
    """Multipart `file`: a CSV (header row of create-body field names, nested ones dotted,
    lists separated by `;`) or JSON Lines (one create body per line), with an optional
    `external_id` per row. Every row is validated as a create request. `dry_run=true` (the
    default) reports each problem (line, field, error) and writes nothing; `dry_run=false`
    writes the valid rows as `pending_review` items — idempotently: the same file again
    changes nothing — and reports the rest. Streamed under IMPORT_MAX_BYTES."""
    upload = await read_one_file(request, settings.import_max_bytes)
    with upload.file:
        return await imports.run_import(who, query, upload.file, upload.filename)


router.add_api_route(
    "",
    create_import,
    methods=["POST"],
    operation_id="admin_imports_create",
    response_model=ImportReport,
    openapi_extra=FILE_ONLY_SCHEMA,
    responses=error_responses(413, 415, 422, codes=IMPORT_CODES),
    route_class_override=UploadRoute,  # streams its body under IMPORT_MAX_BYTES
)
