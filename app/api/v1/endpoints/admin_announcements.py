"""Admin announcements: broadcast to a segment, fanned out by the worker (admins only)."""

from fastapi import APIRouter, Response, status

from app.api.deps import AdminDep
from app.api.http import set_created
from app.api.routing import StrictRoute
from app.schemas.announcement import AnnouncementCreate, AnnouncementRead
from app.schemas.common import error_responses
from app.services import announcements

router = APIRouter(prefix="/announcements", tags=["admin"], route_class=StrictRoute)


@router.post(
    "",
    operation_id="admin_announcements_create",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(422),
)
async def create(admin: AdminDep, body: AnnouncementCreate, response: Response) -> AnnouncementRead:
    """Announce to a segment (role, country, industries, target communities; empty: every
    active user). The worker notifies each user once, as their preferences say (announcements
    are opt-in; e-mail waits for quiet hours to end)."""
    doc = await announcements.create(admin, body.model_dump())
    set_created(response, f"/api/v1/admin/announcements/{doc.id}")
    return AnnouncementRead.from_doc(doc)


@router.get(
    "/{announcement_id}",
    operation_id="admin_announcements_get",
    responses=error_responses(404),
)
async def get(admin: AdminDep, announcement_id: str) -> AnnouncementRead:
    """An announcement and how far its fan-out got."""
    return AnnouncementRead.from_doc(await announcements.get(announcement_id))
