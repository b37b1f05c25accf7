"""Pending-revision routes shared by every catalogue kind: see (organisation, staff),
withdraw (organisation), approve and reject (staff). Each is a thin call into the kind's
service. No postponed annotations here (see workflow.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from app.api.deps import MAX_PATH_KEY, IfMatch, SignedInViewer
from app.api.http import set_etag
from app.api.openapi_contract import SENDS_ETAG
from app.api.v1.endpoints.workflow import Presenter
from app.schemas.catalogue import RejectRequest, RevisionRead
from app.schemas.common import error_responses
from app.services.capabilities import Action, denial_codes
from app.services.catalogue import KindService


def add_revision_routes(
    router: APIRouter,
    service: KindService[Any],
    read_model: type,
    present: Presenter,
    param: str,
) -> None:
    entity = service.kind.entity
    name = router.prefix.strip("/")  # the operation ids' domain: "opportunities"
    not_found = [f"{entity.upper()}_NOT_FOUND", "REVISION_NOT_FOUND"]
    path = "/{" + param + "}/revision"
    # Evaluated now (no postponed annotations in this module), so FastAPI sees the alias.
    Key = Annotated[str, Path(alias=param, min_length=1, max_length=MAX_PATH_KEY)]

    async def get_revision(who: SignedInViewer, key: Key, response: Response) -> RevisionRead:
        item = await service.revision(who, key)
        set_etag(response, item.version)
        revision = RevisionRead.of(item)
        assert revision is not None  # noqa: S101 - the service checked
        return revision

    async def withdraw(who: SignedInViewer, key: Key, if_match: IfMatch) -> None:
        await service.withdraw_revision(who, key, if_match)

    async def approve(who: SignedInViewer, key: Key, response: Response, if_match: IfMatch) -> Any:
        view = await service.approve_revision(who, key, if_match)
        set_etag(response, view.item.version)
        return present(view)

    async def reject(
        who: SignedInViewer, key: Key, body: RejectRequest, response: Response, if_match: IfMatch
    ) -> Any:
        view = await service.reject_revision(who, key, body.reason, if_match)
        set_etag(response, view.item.version)
        return present(view)

    router.add_api_route(
        path,
        get_revision,
        methods=["GET"],
        response_model=RevisionRead,
        operation_id=f"{name}_revision_get",
        summary=f"See the {entity}'s pending revision",
        description="Field by field, live vs proposed (its organisation and staff).",
        responses=error_responses(
            401,
            403,
            404,
            codes={403: denial_codes(Action.item_view_unpublished), 404: not_found},
        ),
        openapi_extra=SENDS_ETAG,
    )
    router.add_api_route(
        path,
        withdraw,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        operation_id=f"{name}_revision_withdraw",
        summary=f"Withdraw the {entity}'s pending revision",
        description="Its organisation (or staff); what is live does not change.",
        responses=error_responses(
            401, 403, 404, 412, codes={403: denial_codes(Action.item_edit), 404: not_found}
        ),
    )
    for action, endpoint, description in (
        ("approve", approve, "Apply it to the live item, re-validated (staff; If-Match)."),
        ("reject", reject, "Discard it with a reason the organisation sees (staff; If-Match)."),
    ):
        router.add_api_route(
            f"{path}/{action}",
            endpoint,
            methods=["POST"],
            response_model=read_model,
            operation_id=f"{name}_revision_{action}",
            summary=f"{action.capitalize()} the {entity}'s pending revision",
            description=description,
            responses=error_responses(
                401,
                403,
                404,
                409,
                412,
                codes={
                    403: denial_codes(Action.item_moderate),
                    404: not_found,
                    409: ["REVISION_INVALID", "ITEM_ARCHIVED", "CONCURRENT_CHANGE"],
                },
            ),
            openapi_extra=SENDS_ETAG,
        )
