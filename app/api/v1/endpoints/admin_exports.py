"""Staff and admins: exports of opportunities and events, streamed as CSV or JSON Lines."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from app.api.deps import StaffDep
from app.api.routing import StrictRoute
from app.schemas.catalogue import CatalogueQuery
from app.schemas.common import error_responses
from app.schemas.ingestion import EventExportQuery, OpportunityExportQuery
from app.services.catalogue import CatalogueKind
from app.services.events import KIND as EVENT_KIND
from app.services.ingestion import exports
from app.services.ingestion.exports import ExportFormat
from app.services.opportunities import KIND as OPPORTUNITY_KIND

router = APIRouter(prefix="/exports", tags=["admin"], route_class=StrictRoute)
MEDIA_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
DESCRIPTIONS: dict[ExportFormat, str] = {
    "csv": "CSV (`attachment`, UTF-8): a header row of create-body field names, one row per "
    "item; times in ISO 8601 UTC with `Z`.",
    "jsonl": "JSON Lines (`attachment`, UTF-8): one JSON object per item.",
}
# Streamed: no Content-Length, no upper bound a client could rely on beyond this one.
FILE_SCHEMA = {"type": "string", "maxLength": 2_000_000_000}
DISPOSITION = {"$ref": "#/components/headers/Content-Disposition"}


def _route(
    kind: CatalogueKind[Any], query_model: type[CatalogueQuery], fmt: ExportFormat
) -> Callable[..., Coroutine[Any, Any, StreamingResponse]]:
    async def export(who: StaffDep, query: Annotated[query_model, Query()]) -> StreamingResponse:  # type: ignore[valid-type]
        name, rows = await exports.export(who, kind, query, fmt)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return StreamingResponse(rows, media_type=MEDIA_TYPES[fmt], headers=headers)

    export.__doc__ = (
        f"Every {kind.entity} matching the list's filters (status, q, type, tags…, sort), "
        f"streamed as {'CSV (cells neutralised against formulas)' if fmt == 'csv' else 'JSON Lines'}"
        ". Columns are create-body names (nested ones dotted), so an export can be imported back."
    )
    return export


EXPORTS = (
    ("opportunities", OPPORTUNITY_KIND, OpportunityExportQuery),
    ("events", EVENT_KIND, EventExportQuery),
)
for _plural, _kind, _model in EXPORTS:
    for _fmt in ("csv", "jsonl"):
        router.add_api_route(
            f"/{_plural}.{_fmt}",
            _route(_kind, _model, _fmt),
            methods=["GET"],
            operation_id=f"admin_exports_{_plural}_{_fmt}",
            response_class=StreamingResponse,
            responses={
                200: {
                    "description": DESCRIPTIONS[_fmt],
                    "content": {MEDIA_TYPES[_fmt].split(";")[0]: {"schema": FILE_SCHEMA}},
                    "headers": {"Content-Disposition": DISPOSITION},
                },
                **error_responses(422),
            },
        )
