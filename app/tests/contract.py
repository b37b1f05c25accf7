"""Every response a test receives through the `client` fixture is checked against the spec
the app serves: the status is declared for the operation, an error has the common shape
(typed `details`) and a code the operation documents for that status, a success has a
declared media type, headers that are sent are declared (and a 201's Location is sent, a
429's or 503's Retry-After too),
and JSON datetimes are ISO 8601 UTC with `Z`. So the whole suite proves the spec tells
the truth, for every route — including ones added later.

Responses of paths outside the spec (unknown paths, test-only routes) are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from httpx import Response
from pydantic import ValidationError

from app.schemas.common import ErrorResponse

# Headers the spec declares where they are sent (compared case-insensitively).
TRACKED_HEADERS = ("etag", "location", "retry-after", "ratelimit-limit", "content-disposition")
# Datetimes in a JSON body that are not UTC with Z (an offset, or none at all).
_NOT_Z = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2})?"')


@dataclass(frozen=True)
class Operation:
    pattern: re.Pattern[str]
    literal: int  # characters outside parameters: the more specific path wins
    method: str
    spec: dict[str, Any]


# Building a spec takes seconds and every app of the suite has the same routes (only the
# dev endpoints come and go with the settings), so the table is built once per kind of app.
_TABLES: dict[bool, list[Operation]] = {}


def _operations(app: FastAPI) -> list[Operation]:
    key = bool(app.state.settings.dev_endpoints)
    if key not in _TABLES:
        table = []
        for path, item in app.openapi()["paths"].items():
            regex = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path))
            literal = len(re.sub(r"{[^}]+}", "", path))
            for method, op in item.items():
                table.append(Operation(re.compile(f"^{regex}$"), literal, method.upper(), op))
        table.sort(key=lambda o: -o.literal)
        _TABLES[key] = table
    return _TABLES[key]


def _operation(app: FastAPI, method: str, path: str) -> Operation | None:
    method = "GET" if method == "HEAD" else method
    for op in _operations(app):
        if op.method == method and op.pattern.match(path):
            return op
    return None


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def violations(app: FastAPI, response: Response) -> list[str]:
    request = response.request
    op = _operation(app, request.method, request.url.path)
    if op is None:
        return []
    label = f"{request.method} {request.url.path} → {response.status_code}"
    declared = op.spec["responses"].get(str(response.status_code))
    if declared is None:
        return [f"{label}: status not declared ({op.spec['operationId']})"]
    problems: list[str] = []
    headers = {k.lower() for k in declared.get("headers", {})}
    for name in TRACKED_HEADERS:
        if name in response.headers and name not in headers:
            problems.append(f"{label}: sends {name}, not declared")
    if response.status_code == 201 and "location" not in response.headers:
        problems.append(f"{label}: 201 without Location")
    if response.status_code in (429, 503) and not response.headers.get("retry-after", "").isdigit():
        problems.append(f"{label}: {response.status_code} without Retry-After in seconds")
    body = response.content
    media = _media(response.headers.get("content-type"))
    content = declared.get("content", {})
    if body and request.method != "HEAD" and media not in content:
        problems.append(f"{label}: {media} not among {sorted(content)}")
    if media == "application/json" and body:
        if match := _NOT_Z.search(response.text):
            problems.append(f"{label}: datetime without Z: {match.group(0)}")
        if response.status_code >= 400:
            problems += _error_problems(label, response, content)
    return problems


def _error_problems(label: str, response: Response, content: dict[str, Any]) -> list[str]:
    try:
        error = ErrorResponse.model_validate(response.json())
    except (ValidationError, ValueError) as exc:
        return [f"{label}: not the error shape: {exc}"]
    documented = set(content.get("application/json", {}).get("examples", {}))
    if error.error.code not in documented:
        return [f"{label}: code {error.error.code} not documented (has {sorted(documented)})"]
    return []


def response_hook(app: FastAPI):
    """An httpx response hook failing the request that broke the contract."""
    _operations(app)  # built now, not during the test's first request

    async def check(response: Response) -> None:
        await response.aread()
        problems = violations(app, response)
        if problems:
            raise AssertionError("the response breaks the spec:\n" + "\n".join(problems))

    return check
