"""The routes every catalogue kind has besides its own list, create, read and update:
workflow transitions, the pending revision, and the cover upload. One call per kind."""

from typing import Any

from fastapi import APIRouter

from app.api.v1.endpoints.attachments import add_attach_route
from app.api.v1.endpoints.revisions import add_revision_routes
from app.api.v1.endpoints.workflow import Presenter, add_workflow_routes
from app.services.catalogue import KindService


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
