"""Admins: the audit log."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AdminUser, PageDep
from app.api.routing import StrictRoute
from app.schemas.admin import AuditPage, AuditRead
from app.schemas.validators import UtcDatetime
from app.services import audit

router = APIRouter(prefix="/audit", tags=["admin"], route_class=StrictRoute)


@router.get("", operation_id="admin_audit_list", response_model=AuditPage)
async def audit_log(
    _: AdminUser,
    page: PageDep,
    entity: Annotated[
        str | None,
        Query(max_length=40, description="opportunity, event, organisation, partner, reference"),
    ] = None,
    entity_id: Annotated[str | None, Query(max_length=120)] = None,
    actor_id: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[UtcDatetime | None, Query()] = None,
    until: Annotated[UtcDatetime | None, Query()] = None,
) -> AuditPage:
    entries, cursor, total = await audit.search(
        entity=entity, entity_id=entity_id, actor_id=actor_id, since=since, until=until, page=page
    )
    return AuditPage(
        items=[AuditRead.from_doc(e) for e in entries], next_cursor=cursor, total=total
    )
