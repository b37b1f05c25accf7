"""The contract every operation's spec follows, applied by walking the routes (so a new
endpoint gets it without asking) and checked by `tests/api/test_openapi_contract.py`:

- `security` says what the route really does with a bearer token: required, optional (a
  public read that shows more to a signed-in caller; a bad token is still a 401) or none;
- every status has the common error shape with examples of codes the route answers with
  (given by the route's `error_responses(..., codes=)`, or the usual ones below);
- response headers are declared where they are sent: `Location` on every 201, `ETag` on
  routes marked `SENDS_ETAG`, `Cache-Control: no-store` on `NO_STORE` ones, the RateLimit
  fields on rate-limited routes, `Retry-After` on every 429;
- integers carry a `format` (int32 when their range fits, else int64).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from app.api.deps import require_roles
from app.core.ratelimit import POLICY_HEADER, RATE_LIMIT_HEADERS, is_rate_limited
from app.schemas.common import ERROR_DESCRIPTIONS, error_example

SECURITY_NAME = "OAuth2PasswordBearer"
SECURITY_SCHEME = {
    SECURITY_NAME: {
        "type": "oauth2",
        "description": "Bearer access tokens: JWTs (JWS, HS256 only) following RFC8725 "
        "(fixed algorithm list, `exp`, `iss`, `aud` and token type always checked), valid "
        "for ACCESS_TOKEN_MINUTES (15). Obtain them with `POST /api/v1/auth/login` (this "
        "form) or `/auth/login/json`; renew them with `POST /api/v1/auth/refresh` (JSON "
        "body `{refresh_token}`: rotation, with a short reuse grace for concurrent tabs).",
        "flows": {"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/login"}},
    }
}
# Route markers, passed as `openapi_extra=`: the route sends an ETag / a no-store body.
SENDS_ETAG = {"x-sends-etag": True}
NO_STORE = {"x-no-store": True}
# A route that never touches the database (so never answers 503 DATABASE_UNAVAILABLE).
NO_DATABASE = {"x-no-database": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _int_header(description: str, maximum: int = 2_147_483_647) -> dict[str, Any]:
    return {
        "description": description,
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": maximum},
    }


HEADER_COMPONENTS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": 'The version read, e.g. `"3"`: send it as `If-Match` to edit it, or '
        "as `If-None-Match` to read it again only when it changed.",
        "schema": {"type": "string", "maxLength": 80},
    },
    "Location": {
        "description": "Where the new resource is (a path under this server).",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference", "maxLength": 2000},
    },
    "Retry-After": {
        **_int_header("Seconds to wait before trying again.", 86400),
        "required": True,
    },
    "RateLimit-Limit": _int_header("Requests allowed in the window (IETF RateLimit fields)."),
    "RateLimit-Remaining": _int_header("Requests left in the current window."),
    "RateLimit-Reset": _int_header("Seconds until the window frees a request."),
    POLICY_HEADER: {
        "description": "The limit and its window in seconds, e.g. `20;w=60`.",
        "schema": {"type": "string", "maxLength": 100},
    },
    "Content-Disposition": {
        "description": "`attachment` with the file name to save it under.",
        "schema": {"type": "string", "maxLength": 300},
    },
    "Cache-Control-No-Store": {
        "description": "`no-store`: the body carries credentials; nothing may cache it.",
        "required": True,
        "schema": {"type": "string", "enum": ["no-store"]},
    },
}

# The codes a status answers with on any route that can return it (a route names its own
# with `error_responses(..., codes=)`; 403, 409 and 404 without path parameters must).
DEFAULT_CODES: dict[int, tuple[str, ...]] = {
    400: ("INVALID_QUERY_STRING",),
    412: ("VERSION_MISMATCH", "INVALID_IF_MATCH"),
    413: ("PAYLOAD_TOO_LARGE",),
    422: ("VALIDATION_ERROR",),
    429: ("RATE_LIMITED",),
    500: ("INTERNAL_ERROR",),
    503: ("SERVICE_UNAVAILABLE",),
}
# A path parameter names what may not be found.
NOT_FOUND_CODES = {
    "opportunity_id": "OPPORTUNITY_NOT_FOUND",
    "event_id": "EVENT_NOT_FOUND",
    "organisation_id": "ORGANISATION_NOT_FOUND",
    "invitation_id": "INVITATION_NOT_FOUND",
    "media_id": "MEDIA_NOT_FOUND",
    "profile_id": "PROFILE_NOT_FOUND",
    "partner_id": "PARTNER_NOT_FOUND",
    "user_id": "USER_NOT_FOUND",
    "slug": "REFERENCE_NOT_FOUND",
    "search_id": "SAVED_SEARCH_NOT_FOUND",
    "notification_id": "NOTIFICATION_NOT_FOUND",
    "announcement_id": "ANNOUNCEMENT_NOT_FOUND",
    "source_id": "SOURCE_NOT_FOUND",
    "run_id": "RUN_NOT_FOUND",
    "duplicate_id": "DUPLICATE_NOT_FOUND",
}
MESSAGES = {
    "NOT_AUTHENTICATED": "Authentication is required.",
    "INVALID_TOKEN": "The token is invalid or expired.",
    "INVALID_QUERY_STRING": "The query string is not valid.",
    "VALIDATION_ERROR": "The request is not valid.",
    "INVALID_QUERY": "Query parameter names may not contain '$' or '['.",
    "REPEATED_QUERY_PARAMETER": "Query parameters given more than once: limit.",
    "INVALID_CURSOR": "The cursor is not valid.",
    "DATABASE_UNAVAILABLE": "The database is unavailable; try again shortly.",
    "PAYLOAD_TOO_LARGE": "The request body is too large.",
    "JSON_REQUIRED": "Send the body as application/json.",
    "FORM_REQUIRED": "Send the body as application/x-www-form-urlencoded.",
    "INTERNAL_ERROR": "An unexpected error occurred.",
    "RATE_LIMITED": "Too many requests; slow down.",
    "INSUFFICIENT_ROLE": "Your role does not allow this.",
    "VERSION_MISMATCH": "The resource changed since you read it.",
    "INVALID_IF_MATCH": "If-Match must be an ETag from a read.",
}


def _calls(dependant: Dependant) -> list[Any]:
    found, stack = [], [dependant]
    while stack:
        current = stack.pop()
        found.append(current.call)
        stack.extend(current.dependencies)
    return found


def security_kind(route: RouteContext) -> str:
    """ "required" (no token is a 401), "optional" (anonymous allowed; a bad token is a
    401) or "none" (the route never reads a token)."""
    bearers = [c for c in _calls(route.dependant) if isinstance(c, OAuth2PasswordBearer)]
    if any(getattr(c, "required", False) for c in bearers):  # deps.BearerAuth(required=True)
        return "required"
    return "optional" if bearers else "none"


def _role_checked(route: RouteContext) -> bool:
    return any(
        getattr(call, "__qualname__", "").startswith(require_roles.__qualname__)
        for call in _calls(route.dependant)
    )


def _error(status: int, codes: tuple[str, ...] | list[str]) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorResponse"},
                "examples": {c: error_example(c, MESSAGES.get(c)) for c in codes},
            }
        },
    }


# Codes any route may answer with under these statuses, whatever else it names.
ALWAYS_POSSIBLE = frozenset({400, 401, 413, 415, 422, 500})


def _ensure(responses: dict[str, Any], status: int, codes: tuple[str, ...]) -> None:
    """Declare `status` (if absent) with examples: the route's own codes, else `codes`
    (for ALWAYS_POSSIBLE statuses, both)."""
    response = responses.get(str(status))
    if response is None:
        responses[str(status)] = _error(status, codes)
        return
    media = response.setdefault("content", {}).setdefault("application/json", {})
    media["schema"] = {"$ref": "#/components/schemas/ErrorResponse"}
    examples = media.setdefault("examples", {})
    if not examples or status in ALWAYS_POSSIBLE:
        for code in codes:
            examples.setdefault(code, error_example(code, MESSAGES.get(code)))
    if not examples:
        del media["examples"]


def _query_models(route: RouteContext) -> list[type[BaseModel]]:
    models, stack = [], [route.dependant]
    while stack:
        current = stack.pop()
        for field in current.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                models.append(annotation)
        stack.extend(current.dependencies)
    return models


def _validation_codes(operation: dict[str, Any], route: RouteContext) -> tuple[str, ...]:
    """422: operator syntax in any query string (INVALID_QUERY, the middleware's), then
    what the route's inputs can fail with: a query model's own codes (`error_codes`)."""
    codes = ["INVALID_QUERY"]
    params = operation.get("parameters", [])
    if params or "requestBody" in operation:
        codes.append("VALIDATION_ERROR")
    if any(p["in"] == "query" for p in params):
        codes.append("REPEATED_QUERY_PARAMETER")
    form = "application/x-www-form-urlencoded"
    if form in operation.get("requestBody", {}).get("content", {}):
        codes.append("REPEATED_FORM_FIELD")
    for model in _query_models(route):
        codes += [c for c in getattr(model, "error_codes", ()) if c not in codes]
    return tuple(codes)


def _ensure_code(responses: dict[str, Any], status: int, code: str) -> None:
    """Declare `status` with `code` among its examples, whatever else it has."""
    _ensure(responses, status, (code,))
    examples = responses[str(status)]["content"]["application/json"]["examples"]
    examples.setdefault(code, error_example(code, MESSAGES.get(code)))


def _body_codes(operation: dict[str, Any]) -> tuple[str, ...]:
    content = operation["requestBody"].get("content", {})
    if "multipart/form-data" in content:
        return ("MULTIPART_REQUIRED",)
    if "application/x-www-form-urlencoded" in content:
        return ("FORM_REQUIRED",)
    return ("JSON_REQUIRED",)


def _plain_parameters(operation: dict[str, Any]) -> None:
    """A parameter is absent or has a value, never JSON null: `anyOf: [X, null]` is X."""
    for param in operation.get("parameters", []):
        schema = param.get("schema", {})
        branches = [b for b in schema.get("anyOf", []) if b != {"type": "null"}]
        if "anyOf" in schema and len(branches) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            param["schema"] = {**branches[0], **rest}


def apply_contract(operation: dict[str, Any], route: RouteContext, path: str) -> None:
    _plain_parameters(operation)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    kind = security_kind(route)
    operation["security"] = {
        "required": [{SECURITY_NAME: []}],
        "optional": [{SECURITY_NAME: []}, {}],
        "none": [{}],
    }[kind]
    if kind != "none":
        codes = ("NOT_AUTHENTICATED", "INVALID_TOKEN") if kind == "required" else ("INVALID_TOKEN",)
        _ensure(responses, 401, codes)
    if _role_checked(route):
        _ensure(responses, 403, ("INSUFFICIENT_ROLE",))
    params = re.findall(r"{([^}]+)}", path)
    not_found = tuple(NOT_FOUND_CODES[p] for p in params if p in NOT_FOUND_CODES)
    if "404" in responses:
        _ensure(responses, 404, not_found)
    if "requestBody" in operation:
        _ensure(responses, 413, DEFAULT_CODES[413])
        _ensure(responses, 415, _body_codes(operation))
    _ensure(responses, 422, _validation_codes(operation, route))
    for status, usual in DEFAULT_CODES.items():
        if status in (400, 500) or str(status) in responses:
            _ensure(responses, status, usual)
    if not operation.pop("x-no-database", False):
        _ensure_code(responses, 503, "DATABASE_UNAVAILABLE")
    _headers(operation, route)
    operation.pop("x-sends-etag", None)
    operation.pop("x-no-store", None)


def _headers(operation: dict[str, Any], route: RouteContext) -> None:
    limited = route.endpoint is not None and is_rate_limited(route.endpoint)
    for status, response in operation["responses"].items():
        code = int(status)
        headers: dict[str, Any] = response.setdefault("headers", {})
        if code == 201:
            headers["Location"] = _ref("Location")
        if operation.get("x-sends-etag") and ((200 <= code < 300 and code != 204) or code == 304):
            headers["ETag"] = _ref("ETag")
        if operation.get("x-no-store") and 200 <= code < 300:
            headers["Cache-Control"] = _ref("Cache-Control-No-Store")
        if code in (429, 503):
            headers["Retry-After"] = _ref("Retry-After")
        if limited and (200 <= code < 300 or code == 429):
            for name in (*RATE_LIMIT_HEADERS, POLICY_HEADER):
                headers[name] = _ref(name)
        if not headers:
            del response["headers"]


def integer_formats(node: Any) -> None:
    """Give every integer schema a format: int32 when its declared range fits, else int64."""
    if isinstance(node, dict):
        if node.get("type") == "integer" and "format" not in node:
            low, high = node.get("minimum"), node.get("maximum")
            fits = low is not None and high is not None and low >= -(2**31) and high <= 2**31 - 1
            node["format"] = "int32" if fits else "int64"
        for value in node.values():
            integer_formats(value)
    elif isinstance(node, list):
        for value in node:
            integer_formats(value)


def shared_examples(schema: dict[str, Any]) -> None:
    """Error examples are one per code: move them to `components/examples`, referenced."""
    shared: dict[str, Any] = schema.setdefault("components", {}).setdefault("examples", {})
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for response in operation.get("responses", {}).values():
                media = response.get("content", {}).get("application/json", {})
                examples = media.get("examples")
                if not examples or media.get("schema", {}).get("$ref", "").split("/")[-1] != (
                    "ErrorResponse"
                ):
                    continue
                for code, example in list(examples.items()):
                    if "$ref" not in example:
                        shared.setdefault(code, example)
                        examples[code] = {"$ref": f"#/components/examples/{code}"}
    schema["components"]["examples"] = dict(sorted(shared.items()))


def _refs(node: Any, found: set[str], schemas: dict[str, Any]) -> set[str]:
    """Names of the component schemas `node` reaches."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _refs(schemas.get(name), found, schemas)
        for value in node.values():
            _refs(value, found, schemas)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found, schemas)
    return found


def outputs_required(schema: dict[str, Any]) -> None:
    """Response models are serialized whole (no field is ever left out), so in schemas only
    responses use, every property is required — generated clients then type them as always
    present. Schemas that requests use too, and the error shape (whose `details` items are
    built by hand), keep pydantic's `required`."""
    schemas: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    inputs: set[str] = set()
    outputs: set[str] = set()
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            _refs(operation.get("requestBody"), inputs, schemas)
            _refs(operation.get("parameters"), inputs, schemas)
            for status, response in operation.get("responses", {}).items():
                if int(status) < 400:
                    _refs(response, outputs, schemas)
    errors = _refs({"$ref": "#/components/schemas/ErrorResponse"}, set(), schemas)
    for name in sorted(outputs - inputs - errors):
        properties = schemas[name].get("properties")
        if properties:
            schemas[name]["required"] = list(properties)
