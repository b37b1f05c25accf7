"""Pending-revision routes shared by opportunities and events: see (organisation, staff),
withdraw (organisation), approve and reject (staff). Each is a thin call into moderation."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status

from app.api.deps import CurrentUser, IfMatch
from app.api.http import set_etag
from app.schemas.catalogue import RejectRequest, RevisionRead
from app.schemas.common import error_responses
from app.services import catalogue, moderation
from app.services.catalogue import CatalogueKind, Viewer

Presenter = Callable[[Viewer, Any], Awaitable[Any]]


def add_revision_routes(
    router: APIRouter, kind: CatalogueKind[Any], read_model: type, present: Presenter, param: str
) -> None:
    name, entity = kind.entity + "s", kind.entity
    path = "/{" + param + "}/revision"
    # Evaluated now (no postponed annotations in this module), so FastAPI sees the alias.
    Key = Annotated[str, Path(alias=param)]

    async def get_revision(principal: CurrentUser, key: Key, response: Response) -> RevisionRead:
        who = await catalogue.viewer(principal)
        item = await moderation.get_revision(kind, who, key)
        set_etag(response, item.version)
        revision = RevisionRead.of(item)
        assert revision is not None  # noqa: S101 - the service checked
        return revision

    async def withdraw(principal: CurrentUser, key: Key, if_match: IfMatch) -> None:
        who = await catalogue.viewer(principal)
        await moderation.withdraw_revision(kind, who, key, if_match)

    async def approve(
        principal: CurrentUser, key: Key, response: Response, if_match: IfMatch
    ) -> Any:
        who = await catalogue.viewer(principal)
        item = await moderation.approve_revision(kind, who, key, if_match)
        set_etag(response, item.version)
        return await present(who, item)

    async def reject(
        principal: CurrentUser, key: Key, body: RejectRequest, response: Response, if_match: IfMatch
    ) -> Any:
        who = await catalogue.viewer(principal)
        item = await moderation.reject_revision(kind, who, key, body.reason, if_match)
        set_etag(response, item.version)
        return await present(who, item)

    router.add_api_route(
        path,
        get_revision,
        methods=["GET"],
        response_model=RevisionRead,
        operation_id=f"{name}_revision_get",
        summary=f"See the {entity}'s pending revision",
        description="Field by field, live vs proposed (its organisation and staff).",
        responses=error_responses(401, 403, 404),
    )
    router.add_api_route(
        path,
        withdraw,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        operation_id=f"{name}_revision_withdraw",
        summary=f"Withdraw the {entity}'s pending revision",
        description="Its organisation (or staff); what is live does not change.",
        responses=error_responses(401, 403, 404, 412),
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
            responses=error_responses(401, 403, 404, 409, 412),
        )
