"""Workflow routes shared by every catalogue kind: submit, approve, reject, publish, close,
cancel, restore, archive, purge. Each is a thin call into the kind's service.

No postponed annotations here: the closures' parameter types are evaluated where they are
defined, so FastAPI sees each kind's path parameter name (`Path(alias=...)`).
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from app.api.deps import IfMatch, SignedInViewer
from app.api.http import set_etag
from app.schemas.catalogue import ReasonRequest, RejectRequest
from app.schemas.common import error_responses
from app.services.catalogue import ItemView, KindService, Viewer

Presenter = Callable[[ItemView[Any]], Any]

# Every transition honours If-Match: with it, staff approve exactly the version they read.
DESCRIPTIONS = {
    "submit": "Send a draft to review (organisation members).",
    "approve": "Publish an item pending review (staff).",
    "reject": "Send an item pending review back to draft, with a reason (staff).",
    "publish": "Publish directly from draft, review or closed (staff and admins).",
    "close": "Stop accepting applications or RSVPs (organisation members).",
    "cancel": "Cancel (organisation members).",
    "restore": "Bring an archived item back to its previous status (staff).",
}


def add_workflow_routes(
    router: APIRouter,
    service: KindService[Any],
    read_model: type,
    present: Presenter,
    param: str,
) -> None:
    entity = service.kind.entity
    path = "/{" + param + "}"
    Key = Annotated[str, Path(alias=param)]

    def register(action: str, endpoint: Callable[..., Any]) -> None:
        endpoint.__name__ = f"{entity}_{action}"
        router.add_api_route(
            f"{path}/{action}",
            endpoint,
            methods=["POST"],
            response_model=read_model,
            operation_id=f"{entity}s_{action}",
            summary=f"{action.capitalize()} a {entity}",
            description=DESCRIPTIONS[action],
            responses=error_responses(401, 403, 404, 409, 412),
        )

    async def reasoned(
        who: Viewer,
        key: str,
        action: str,
        reason: str | None,
        response: Response,
        version: int | None,
    ) -> Any:
        view = await service.transition(who, key, action, reason, version)
        set_etag(response, view.item.version)
        return present(view)

    async def reject(
        who: SignedInViewer, key: Key, body: RejectRequest, response: Response, if_match: IfMatch
    ) -> Any:
        return await reasoned(who, key, "reject", body.reason, response, if_match)

    async def cancel(
        who: SignedInViewer, key: Key, body: ReasonRequest, response: Response, if_match: IfMatch
    ) -> Any:
        return await reasoned(who, key, "cancel", body.reason, response, if_match)

    def plain(action: str) -> None:
        async def endpoint(
            who: SignedInViewer, key: Key, response: Response, if_match: IfMatch
        ) -> Any:
            return await reasoned(who, key, action, None, response, if_match)

        register(action, endpoint)

    for action in ("submit", "approve", "publish", "close", "restore"):
        plain(action)
    register("reject", reject)
    register("cancel", cancel)

    async def archive(who: SignedInViewer, key: Key) -> None:
        await service.archive(who, key)

    async def purge(who: SignedInViewer, key: Key) -> None:
        await service.purge(who, key)

    for func, suffix, op, summary in (
        (archive, "", "archive", f"Archive (soft-delete) a {entity}"),
        (purge, "/purge", "purge", f"Delete an archived {entity} for good (admins)"),
    ):
        func.__name__ = f"{entity}_{op}"
        router.add_api_route(
            f"{path}{suffix}",
            func,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            operation_id=f"{entity}s_{op}",
            summary=summary,
            responses=error_responses(401, 403, 404, 409),
        )
