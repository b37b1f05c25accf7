"""What every catalogue kind's endpoints share: the routes besides its own list, create,
read and update (workflow transitions, the pending revision, the cover upload: one call per
kind), and the response headers of those four."""

from typing import Any

from fastapi import APIRouter, Response, status

from app.api.http import set_created, set_etag
from app.api.v1.endpoints.attachments import add_attach_route
from app.api.v1.endpoints.revisions import add_revision_routes
from app.api.v1.endpoints.workflow import Presenter, add_workflow_routes
from app.schemas.common import error_responses
from app.services.capabilities import Action, denial_codes
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
        codes={
            403: denial_codes(Action.item_upload_cover),
            404: [f"{entity.upper()}_NOT_FOUND"],
        },
    )


def create_errors(entity: str) -> dict[int | str, Any]:
    """A new item of a kind: who may, the organisation it belongs to, its slug."""
    return error_responses(
        401,
        403,
        404,
        409,
        422,
        codes={
            422: ["UNKNOWN_REFERENCE"],
            403: [*denial_codes(Action.item_create), "STAFF_ONLY_FIELD"],
            404: ["ORGANISATION_NOT_FOUND"],
            409: ["SLUG_TAKEN"],
        },
    )


def edit_errors(entity: str, read_model: type) -> dict[int | str, Any]:
    """A PATCH of an item: 200 live, or 202 when a member's change waits for staff."""
    return {
        202: {
            "model": read_model,
            "description": "Accepted: changes to moderated fields wait for staff as the item's "
            "pending revision (see `pending_revision`); what is live did not change.",
        },
        **error_responses(
            401,
            403,
            404,
            409,
            412,
            422,
            codes={
                422: ["UNKNOWN_REFERENCE"],
                403: [*denial_codes(Action.item_edit), "STAFF_ONLY_FIELD"],
                404: [f"{entity.upper()}_NOT_FOUND"],
                409: ["ITEM_ARCHIVED", "SLUG_TAKEN", "CONCURRENT_CHANGE"],
            },
        ),
    }


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
