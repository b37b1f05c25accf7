"""Workflow routes shared by every catalogue kind: submit, approve, reject, publish, close,
cancel, restore, archive, purge. Each is a thin call into the kind's service.

No postponed annotations here: the closures' parameter types are evaluated where they are
defined, so FastAPI sees each kind's path parameter name (`Path(alias=...)`).
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from app.api.deps import MAX_PATH_KEY, IfMatch, SignedInViewer
from app.api.http import set_etag
from app.api.openapi_contract import SENDS_ETAG
from app.schemas.catalogue import ReasonRequest, RejectRequest
from app.schemas.common import error_responses
from app.services.capabilities import Action, denial_codes
from app.services.catalogue import ItemView, KindService, Viewer
from app.services.catalogue.workflow import TRANSITIONS

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
    collection = router.prefix.strip("/")  # the operation ids' domain: "opportunities"
    path = "/{" + param + "}"
    not_found = f"{entity.upper()}_NOT_FOUND"
    Key = Annotated[str, Path(alias=param, min_length=1, max_length=MAX_PATH_KEY)]

    def register(action: str, endpoint: Callable[..., Any]) -> None:
        endpoint.__name__ = f"{entity}_{action}"
        router.add_api_route(
            f"{path}/{action}",
            endpoint,
            methods=["POST"],
            response_model=read_model,
            operation_id=f"{collection}_{action}",
            summary=f"{action.capitalize()} a {entity}",
            description=DESCRIPTIONS[action],
            responses=error_responses(
                401,
                403,
                404,
                409,
                412,
                codes={
                    403: denial_codes(TRANSITIONS[action][2]),
                    404: [not_found],
                    409: ["INVALID_TRANSITION", "CONCURRENT_CHANGE"],
                },
            ),
            openapi_extra=SENDS_ETAG,
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

    for func, suffix, op, summary, description, capability, conflicts in (
        (
            archive,
            "",
            "archive",
            f"Archive (soft-delete) a {entity}",
            "Hidden from everyone but staff; staff can restore it (owners, staff, admins).",
            Action.item_archive,
            ["INVALID_TRANSITION", "CONCURRENT_CHANGE"],
        ),
        (
            purge,
            "/purge",
            "purge",
            f"Delete an archived {entity} for good (admins)",
            "Removes the archived item and what hangs off it; archive it first.",
            Action.item_purge,
            ["NOT_ARCHIVED"],
        ),
    ):
        func.__name__ = f"{entity}_{op}"
        router.add_api_route(
            f"{path}{suffix}",
            func,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            operation_id=f"{collection}_{op}",
            summary=summary,
            description=description,
            responses=error_responses(
                401,
                403,
                404,
                409,
                codes={403: denial_codes(capability), 404: [not_found], 409: conflicts},
            ),
        )
