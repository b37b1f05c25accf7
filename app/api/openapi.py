"""The OpenAPI spec: FastAPI's, then the contract applied to every operation
(`app/api/openapi_contract.py`), so new routes get it without asking."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.api.openapi_contract import (
    HEADER_COMPONENTS,
    SECURITY_SCHEME,
    apply_contract,
    integer_formats,
    outputs_required,
    shared_examples,
)
from app.core.config import Settings
from app.schemas.common import ErrorResponse

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def servers(settings: Settings) -> list[dict[str, Any]]:
    """The one server a spec describes: this deployment, at PUBLIC_BASE_URL."""
    environment = settings.environment.value
    description = (
        "Local development server (`make run`); a deployment serves its own spec, listing "
        "its PUBLIC_BASE_URL"
        if environment != "production"
        else "Production"
    )
    return [
        {
            "url": settings.public_base_url.rstrip("/"),
            "description": f"{description} ({environment})",
            "x-internal": False,
        }
    ]


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    settings: Settings = app.state.settings
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=servers(settings),
        contact={"name": "RunWei API team", "email": settings.api_contact_email},
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["ErrorResponse"] = error_schema
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components.setdefault("headers", {}).update(HEADER_COMPONENTS)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEME)
    routes = {
        (str(context.path_format), method.lower()): context
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.include_in_schema
        for method in context.methods or ()
    }
    for path, path_item in schema.get("paths", {}).items():
        for method, operation in path_item.items():
            apply_contract(operation, routes[(path, method)], path)
    integer_formats(schema)
    shared_examples(schema)
    outputs_required(schema)
    app.openapi_schema = schema
    return schema
