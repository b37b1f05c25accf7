"""Admins: the audit log."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import AdminDep
from app.api.routing import StrictRoute
from app.schemas.admin import AuditPage, AuditQuery, AuditRead
from app.services import audit

router = APIRouter(prefix="/audit", tags=["admin"], route_class=StrictRoute)


@router.get("", operation_id="admin_audit_list")
async def audit_log(_: AdminDep, query: Annotated[AuditQuery, Query()]) -> AuditPage:
    """Every audited change (who, what, before and after), newest first, filtered."""
    entries, cursor, total = await audit.search(query)
    return AuditPage(
        items=[AuditRead.from_doc(e) for e in entries], next_cursor=cursor, total=total
    )
