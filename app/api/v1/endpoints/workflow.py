"""Workflow routes shared by opportunities and events: submit, approve, reject, publish,
close, cancel, restore, purge. Each is a thin call into the catalogue service."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Response, status

from app.api.deps import CurrentUser, IfMatch
from app.api.http import set_etag
from app.schemas.catalogue import ReasonRequest, RejectRequest
from app.schemas.common import error_responses
from app.services import catalogue
from app.services.catalogue import CatalogueKind, Viewer

Presenter = Callable[[Viewer, Any], Awaitable[Any]]

# Every transition honours If-Match: with it, staff approve exactly the version they read.
DESCRIPTIONS = {
    "submit": "Send a draft to review (organisation members).",
    "approve": "Publish an item pending review (staff).",
    "publish": "Publish directly from draft, review or closed (staff and admins).",
    "close": "Stop accepting applications or RSVPs (organisation members).",
    "cancel": "Cancel (organisation members).",
    "restore": "Bring an archived item back to its previous status (staff).",
}


def add_workflow_routes(
    router: APIRouter, kind: CatalogueKind[Any], read_model: type, present: Presenter, param: str
) -> None:
    name = kind.entity + "s"
    path = "/{" + param + "}"

    def plain(action: str) -> None:
        async def endpoint(principal: CurrentUser, response: Response, **params: Any) -> Any:
            who = await catalogue.viewer(principal)
            item = await catalogue.transition(
                kind, who, params[param], action, expected_version=params["if_match"]
            )
            set_etag(response, item.version)
            return await present(who, item)

        _register(action, endpoint, body=None)

    def with_reason(action: str, body_model: type) -> None:
        async def endpoint(
            principal: CurrentUser, response: Response, body: Any, **params: Any
        ) -> Any:
            who = await catalogue.viewer(principal)
            item = await catalogue.transition(
                kind, who, params[param], action, body.reason, params["if_match"]
            )
            set_etag(response, item.version)
            return await present(who, item)

        _register(action, endpoint, body=body_model)

    def _register(action: str, endpoint: Callable[..., Any], body: type | None) -> None:
        parameters = [
            inspect.Parameter("principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentUser),
            inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY, annotation=Response),
            inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=str),
            inspect.Parameter("if_match", inspect.Parameter.KEYWORD_ONLY, annotation=IfMatch),
        ]
        if body is not None:
            parameters.append(
                inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)
            )
        endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        endpoint.__name__ = f"{kind.entity}_{action}"
        router.add_api_route(
            f"{path}/{action}",
            endpoint,
            methods=["POST"],
            response_model=read_model,
            operation_id=f"{name}_{action}",
            summary=f"{action.capitalize()} a {kind.entity}",
            description=DESCRIPTIONS.get(action, ""),
            responses=error_responses(401, 403, 404, 409, 412),
        )

    for action in ("submit", "approve", "publish", "close", "restore"):
        plain(action)
    with_reason("reject", RejectRequest)
    with_reason("cancel", ReasonRequest)

    async def archive(principal: CurrentUser, **params: str) -> None:
        who = await catalogue.viewer(principal)
        await catalogue.transition(kind, who, params[param], "archive")

    async def purge(principal: CurrentUser, **params: str) -> None:
        who = await catalogue.viewer(principal)
        await catalogue.purge(kind, who, params[param])

    for func, verb, suffix, op, summary in (
        (archive, "DELETE", "", "archive", f"Archive (soft-delete) a {kind.entity}"),
        (purge, "DELETE", "/purge", "purge", f"Delete an archived {kind.entity} for good (admins)"),
    ):
        func.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "principal", inspect.Parameter.KEYWORD_ONLY, annotation=CurrentUser
                ),
                inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, annotation=str),
            ]
        )
        router.add_api_route(
            f"{path}{suffix}",
            func,
            methods=[verb],
            status_code=status.HTTP_204_NO_CONTENT,
            operation_id=f"{name}_{op}",
            summary=summary,
            responses=error_responses(401, 403, 404, 409),
        )
