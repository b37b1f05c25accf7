"""The route class every endpoint module uses: strict decoding of what FastAPI decodes itself.

`APIRouter(..., route_class=StrictRoute)`. Per request, before the endpoint's parameters
are validated:
- a scalar query parameter sent twice (`?limit=1&limit=99`) is a 422: FastAPI would
  silently keep the last one, so a cache or proxy and the API could disagree about it; the
  same for a form field (`username=a&username=b`, 422 `REPEATED_FORM_FIELD`);
- a body on a JSON route must be declared JSON (`application/json` or `+json`), on a form
  route a form; anything else is a 415 instead of a confusing validation error;
- JSON bodies are parsed by `app.utils.strict_json` (no duplicate keys, NaN/Infinity,
  integers MongoDB cannot store, lone surrogates, invalid UTF-8 or deep nesting), and a
  refusal is the same 422 as any malformed JSON.
"""

from __future__ import annotations

import email.message
import json
import types
from collections.abc import Callable, Coroutine, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.core.exceptions import UnsupportedMedia, ValidationFailed
from app.utils import strict_json

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class StrictJSONRequest(Request):
    """A request whose `.json()` is `strict_json.loads`. FastAPI turns a `JSONDecodeError`
    into its usual 422 (`json_invalid`), so every malformed body is answered alike."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = strict_json.loads(await self.body())
            except strict_json.StrictJSONError as exc:
                raise json.JSONDecodeError(exc.msg, "", exc.pos) from None
        return self._json


def _accepts_many(annotation: Any) -> bool:
    """list[str], set[int], tuple[...], Sequence[...] — possibly inside Optional/Annotated."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _accepts_many(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_accepts_many(arg) for arg in get_args(annotation))
    if origin is Literal:
        return False
    if isinstance(origin, type):
        return issubclass(origin, list | set | frozenset | tuple | Sequence) and not issubclass(
            origin, str | bytes
        )
    return False


def _scalar_query_names(dependant: Dependant) -> frozenset[str]:
    """Query parameters of the endpoint and its dependencies that take one value (the
    fields of a query model, `Annotated[XQuery, Query()]`, included)."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names.update(
                    info.alias or name
                    for name, info in annotation.model_fields.items()
                    if not _accepts_many(info.annotation)
                )
            elif not _accepts_many(annotation):
                names.add(field.alias)
        stack.extend(current.dependencies)
    return frozenset(names)


def _scalar_form_names(dependant: Dependant) -> frozenset[str]:
    """Form fields of the endpoint and its dependencies that take one value."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        names.update(
            field.alias
            for field in current.body_params
            if not _accepts_many(field.field_info.annotation)
        )
        stack.extend(current.dependencies)
    return frozenset(names)


def _media_type(content_type: str | None) -> str:
    message = email.message.Message()
    message["content-type"] = content_type or ""
    return message.get_content_type() if content_type else ""


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class StrictRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        single = _scalar_query_names(self.dependant)
        body: Literal["json", "form"] | None = None
        single_form: frozenset[str] = frozenset()
        if self.body_field is not None:
            body = "form" if isinstance(self.body_field.field_info, params.Form) else "json"
            if body == "form":
                single_form = _scalar_form_names(self.dependant)

        async def strict_handler(request: Request) -> Response:
            if single:
                _reject_repeated(request.query_params.multi_items(), single, "query")
            if body is not None:
                request = StrictJSONRequest(request.scope, request.receive)
                if await request.body():
                    _check_content_type(request, body)
                    if single_form:  # parsed once: FastAPI reuses this request's form
                        form = await request.form()
                        _reject_repeated(form.multi_items(), single_form, "body")
            return await handler(request)

        return strict_handler


def _reject_repeated(
    items: Sequence[tuple[str, Any]], single: frozenset[str], where: Literal["query", "body"]
) -> None:
    seen: set[str] = set()
    repeated: list[str] = []
    for name, _ in items:
        if name in single:
            if name in seen and name not in repeated:
                repeated.append(name)
            seen.add(name)
    if repeated:
        what = "Query parameters" if where == "query" else "Form fields"
        raise ValidationFailed(
            f"{what} given more than once: {', '.join(repeated)}.",
            code="REPEATED_QUERY_PARAMETER" if where == "query" else "REPEATED_FORM_FIELD",
            details=[
                {"loc": [where, name], "msg": "give this parameter once", "type": "value_error"}
                for name in repeated
            ],
        )


def _check_content_type(request: Request, body: Literal["json", "form"]) -> None:
    media_type = _media_type(request.headers.get("content-type"))
    if body == "json" and not _is_json(media_type):
        raise UnsupportedMedia("Send the body as application/json.", code="JSON_REQUIRED")
    if body == "form" and media_type not in FORM_TYPES:
        raise UnsupportedMedia(
            "Send the body as application/x-www-form-urlencoded.", code="FORM_REQUIRED"
        )
