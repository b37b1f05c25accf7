"""What every catalogue kind's endpoints share: the routes besides its own list, create,
read and update (workflow transitions, the pending revision, the cover upload: one call per
kind), and the response headers of those four."""

from typing import Any

from fastapi import APIRouter, Response, status

from app.api.http import set_created, set_etag
from app.api.v1.endpoints.attachments import add_attach_route
from app.api.v1.endpoints.revisions import add_revision_routes
from app.api.v1.endpoints.workflow import Presenter, add_workflow_routes
from app.services.catalogue import Edited, ItemView, KindService


def add_item_routes(
    router: APIRouter, service: KindService[Any], read_model: type, present: Presenter, param: str
) -> None:
    entity = service.kind.entity
    add_workflow_routes(router, service, read_model, present, param)
    add_revision_routes(router, service, read_model, present, param)
    add_attach_route(
        router,
        "/{" + param + "}/cover",
        service.kind.media_owner,
        param=param,
        operation_id=f"{router.prefix.strip('/')}_cover_set",
        summary=f"Set the {entity}'s cover",
        description=f"Upload its cover image; visible to whoever may see the {entity}.",
    )


def tagged(response: Response, view: ItemView[Any]) -> ItemView[Any]:
    """The view, its version sent as the ETag."""
    set_etag(response, view.item.version)
    return view


def created(response: Response, view: ItemView[Any], collection: str) -> ItemView[Any]:
    """A new item: 201 with its Location and ETag."""
    set_created(response, f"/api/v1/{collection}/{view.item.id}", view.item.version)
    return view


def accepted(response: Response, edited: Edited[Any]) -> ItemView[Any]:
    """An edit: 200, or 202 when some of it waits for staff; the ETag either way."""
    if edited.queued:
        response.status_code = status.HTTP_202_ACCEPTED
    return tagged(response, edited.view)
