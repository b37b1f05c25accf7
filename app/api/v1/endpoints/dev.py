"""Development only: what a frontend developer needs to finish every flow without SMTP.

Mounted by `create_app` only on the embedded default (no MONGODB_URL; never in production:
production requires MONGODB_URL and `Settings.dev_endpoints` is false there). Absent, the
routes are a plain 404 and are not in the spec.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.routing import StrictRoute
from app.schemas.dev import OutboxPage, OutboxQuery, OutboxRead
from app.services import dev as dev_service

router = APIRouter(prefix="/dev", tags=["dev"], route_class=StrictRoute)


@router.get("/outbox", operation_id="dev_outbox_list")
async def outbox(query: Annotated[OutboxQuery, Query()]) -> OutboxPage:
    """The e-mail the server would have sent (verification, password reset, invitations),
    newest first, with the links each one carries: follow them to verify an address or
    reset a password locally. Development only (the embedded database); a production
    server has no such route."""
    items, cursor, total = await dev_service.outbox(query)
    return OutboxPage(
        items=[OutboxRead.from_doc(m) for m in items], next_cursor=cursor, total=total
    )
