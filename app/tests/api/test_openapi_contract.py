"""The spec types the truth — walked over the WHOLE generated spec, so every endpoint,
including ones added later, is held to the conventions (docs/architecture.md, "What every
endpoint declares"). Spectral lints the committed file too (`test_spectral.py`).

Static: operation ids, descriptions, security, bounded inputs, declared headers, media
types, error examples with real codes. Dynamic: every operation that reads a token answers
401 with a documented code; every GET that names a resource in its path answers an unknown
one with a documented 404 code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.models.reference import ReferenceKind
from app.services.catalogue.kinds import CatalogueKind
from app.tests import contract

ROOT = Path(__file__).resolve().parents[3]
METHODS = ("get", "post", "put", "patch", "delete")
OPERATION_ID = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")
BOUNDED_FORMATS = {"date", "date-time", "binary", "uuid"}
GENERIC = {403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT"}
UNKNOWN_ID = "64b7f0c2a1b2c3d4e5f60718"


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def known_codes() -> set[str]:
    """Every error code the application can answer with: the UPPER_SNAKE literals of its
    source, plus each catalogue kind's `<ENTITY>_NOT_FOUND`."""
    codes: set[str] = set()
    for source in (ROOT / "app").rglob("*.py"):
        if "tests" not in source.parts:
            codes |= set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', source.read_text()))
    codes |= {"FORBIDDEN", "NOT_FOUND", "CONFLICT"}  # real, but only generic (see below)
    from app.services.events.kind import KIND as EVENT
    from app.services.opportunities.kind import KIND as OPPORTUNITY

    kinds: list[CatalogueKind[Any]] = [EVENT, OPPORTUNITY]
    return codes | {f"{k.entity.upper()}_NOT_FOUND" for k in kinds}


def walk_schema(
    spec: dict[str, Any], node: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (location, schema) under `node`, following $refs once each."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen = seen | {name}
        node = resolve(spec, node)
        where = f"{where}<{name}>"
    yield where, node
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield from walk_schema(spec, sub, f"{where}|{i}", seen)
    for name, sub in node.get("properties", {}).items():
        yield from walk_schema(spec, sub, f"{where}.{name}", seen)
    if isinstance(node.get("items"), dict):
        yield from walk_schema(spec, node["items"], f"{where}[]", seen)
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk_schema(spec, node["additionalProperties"], f"{where}{{}}", seen)


def unbounded(schema: dict[str, Any]) -> str | None:
    """Why an input schema is not bounded (None when it is)."""
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return None
    if kind == "string":
        if "maxLength" in schema or schema.get("format") in BOUNDED_FORMATS:
            return None
        return "string without maxLength"
    if kind == "array" and "maxItems" not in schema:
        return "array without maxItems"
    if kind in ("integer", "number"):
        low = "minimum" in schema or "exclusiveMinimum" in schema
        high = "maximum" in schema or "exclusiveMaximum" in schema
        if not (low and high):
            return f"{kind} without a minimum and a maximum"
    open_object = kind == "object" and isinstance(schema.get("additionalProperties"), dict)
    if open_object and "maxProperties" not in schema:
        return "open object without maxProperties"
    return None


@pytest.fixture
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def _name(segment: str) -> str:
    return re.sub(r"[^a-z]", "_", segment.split(".")[0].split("{")[0]).strip("_")


def domains(path: str) -> list[str]:
    """The prefixes an operation id may start with: the path's first segment; under /admin
    `admin_<area>`; under /me `me_<area>` or the area itself (`saved_searches_list`)."""
    parts = [_name(p) for p in path.removeprefix("/api/v1/").split("/")]
    if parts[0] == "admin" and len(parts) > 1:
        return [f"admin_{parts[1]}"]
    if parts[0] == "me" and len(parts) > 1 and parts[1]:
        return [f"me_{parts[1]}", parts[1]]
    return [parts[0]]


def test_operation_ids_are_readable_method_names(spec: dict[str, Any]) -> None:
    """`<domain>_<action>`, the domain named by the path (no `opportunitys_*`)."""
    bad = []
    for path, method, op in operations(spec):
        op_id = op["operationId"]
        allowed = domains(path)
        if not OPERATION_ID.match(op_id) or not any(op_id.startswith(f"{d}_") for d in allowed):
            bad.append(f"{method.upper()} {path}: {op_id} (expected {allowed[0]}_<action>)")
    assert not bad, "\n".join(bad)
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))


def test_every_operation_has_a_description(spec: dict[str, Any]) -> None:
    missing = [
        f"{m.upper()} {p}" for p, m, op in operations(spec) if not op.get("description", "").strip()
    ]
    assert not missing, "give these endpoints a docstring:\n" + "\n".join(missing)


def test_every_input_is_bounded(spec: dict[str, Any]) -> None:
    """Request bodies and parameters: strings have maxLength (or an enum, const or a
    bounded format), arrays maxItems, numbers a minimum and a maximum."""
    problems = []
    for path, method, op in operations(spec):
        label = f"{method.upper()} {path}"
        for param in op.get("parameters", []):
            for where, schema in walk_schema(spec, param["schema"], param["name"], set()):
                if reason := unbounded(schema):
                    problems.append(f"{label} {param['in']} {where}: {reason}")
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            for where, schema in walk_schema(spec, content["schema"], media, set()):
                if reason := unbounded(schema):
                    problems.append(f"{label} body {where}: {reason}")
    assert not problems, "\n".join(problems)


def test_security_is_declared_on_every_operation(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert "RFC8725" in scheme["description"]
    for path, method, op in operations(spec):
        security = op.get("security")
        assert security in (
            [{"OAuth2PasswordBearer": []}],
            [{"OAuth2PasswordBearer": []}, {}],
            [{}],
        ), (method, path, security)
        if security != [{}]:
            examples = op["responses"]["401"]["content"]["application/json"]["examples"]
            assert "INVALID_TOKEN" in examples, (method, path)


def test_errors_are_documented_with_real_codes(spec: dict[str, Any]) -> None:
    codes = known_codes()
    problems = []
    for path, method, op in operations(spec):
        label = f"{method.upper()} {path}"
        responses = op["responses"]
        for status in ("400", "500"):
            if status not in responses:
                problems.append(f"{label}: no {status}")
        for status, response in responses.items():
            if int(status) < 400:
                continue
            media = response.get("content", {}).get("application/json", {})
            if media.get("schema") != {"$ref": "#/components/schemas/ErrorResponse"}:
                problems.append(f"{label} {status}: not the error shape")
            examples = media.get("examples", {})
            if not examples:
                problems.append(f"{label} {status}: no example")
            for code, example in examples.items():
                value = resolve(spec, example)["value"]
                if value["error"]["code"] != code or code not in codes:
                    problems.append(f"{label} {status}: {code} is not a code the app returns")
                if GENERIC.get(int(status)) == code:
                    problems.append(f"{label} {status}: name the specific code, not {code}")
    assert not problems, "\n".join(problems)


def test_response_headers_are_declared(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            headers = response.get("headers", {})
            if status == "201":
                assert "Location" in headers, (method, path)
            if status == "429":
                assert "Retry-After" in headers, (method, path)
            if status == "204":
                assert "content" not in response, (method, path)


def test_success_bodies_have_media_types_and_schemas(spec: dict[str, Any]) -> None:
    problems = []
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if not 200 <= int(status) < 300:
                continue
            for media, content in response.get("content", {}).items():
                schema = content.get("schema")
                if not schema:
                    problems.append(f"{method.upper()} {path} {status} {media}: no schema")
                elif media != "application/json" and schema.get("type") != "string":
                    problems.append(f"{method.upper()} {path} {status} {media}: not a string")
    assert not problems, "\n".join(problems)
    ical = spec["paths"]["/api/v1/events/{event_id}.ics"]["get"]["responses"]["200"]
    assert set(ical["content"]) == {"text/calendar"}
    csv = spec["paths"]["/api/v1/events/{event_id}/attendees.csv"]["get"]["responses"]["200"]
    assert set(csv["content"]) == {"text/csv"}
    content = spec["paths"]["/api/v1/media/{media_id}/content"]["get"]["responses"]["200"]
    assert all(c["schema"]["format"] == "binary" for c in content["content"].values())


def test_servers_and_contact(spec: dict[str, Any], settings) -> None:
    assert spec["servers"][0]["url"] == settings.public_base_url
    assert spec["info"]["contact"]["email"] == settings.api_contact_email


# --- what the running app answers -------------------------------------------------------------


def concrete(path: str) -> str:
    kinds = {"kind": ReferenceKind.industries.value, "slug": "no-such-slug"}
    return re.sub(r"{([^}]+)}", lambda m: kinds.get(m.group(1), UNKNOWN_ID), path)


def documented_codes(op: dict[str, Any], status: int) -> set[str]:
    response = op["responses"].get(str(status), {})
    return set(response.get("content", {}).get("application/json", {}).get("examples", {}))


async def test_every_token_reading_operation_answers_a_documented_401(
    spec: dict[str, Any], client: AsyncClient
) -> None:
    problems = []
    for path, method, op in operations(spec):
        if op["security"] == [{}]:
            continue
        url = concrete(path)
        cases = [("garbage", {"Authorization": "Bearer not-a-token"}, "INVALID_TOKEN")]
        if op["security"] == [{"OAuth2PasswordBearer": []}]:
            cases.append(("none", {}, "NOT_AUTHENTICATED"))
        for what, headers, expected in cases:
            response = await client.request(method, url, headers=headers)
            code = response.json().get("error", {}).get("code") if response.content else None
            if response.status_code != 401 or code != expected:
                problems.append(f"{method.upper()} {path} ({what}): {response.status_code} {code}")
            elif code not in documented_codes(op, 401):
                problems.append(f"{method.upper()} {path}: {code} not documented")
            elif "www-authenticate" not in response.headers:
                problems.append(f"{method.upper()} {path}: 401 without WWW-Authenticate")
    assert not problems, "\n".join(problems)


async def test_every_unknown_resource_is_a_documented_404(
    spec: dict[str, Any], client: AsyncClient, admin
) -> None:
    problems = []
    for path, method, op in operations(spec):
        if method != "get" or "{" not in path or "404" not in op["responses"]:
            continue
        response = await client.get(concrete(path), headers=admin.headers)
        code = response.json().get("error", {}).get("code")
        if response.status_code != 404 or code not in documented_codes(op, 404):
            problems.append(f"GET {path}: {response.status_code} {code}")
    assert not problems, "\n".join(problems)


# --- the response contract every test's client enforces (app/tests/contract.py) ----------------


def _response(method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
    request = httpx.Request(method, f"http://testserver{path}")
    return httpx.Response(status, request=request, **kwargs)


def test_the_response_contract_catches_what_the_spec_does_not_say(app: FastAPI) -> None:
    ok = _response("GET", "/api/v1/users/me", 200, json={"id": "x"})
    assert contract.violations(app, ok) == []
    cases = {
        "status not declared": _response("GET", "/api/v1/users/me", 418, json={}),
        "sends etag": _response("GET", "/api/v1/users/me", 200, json={}, headers={"ETag": '"1"'}),
        "201 without Location": _response("POST", "/api/v1/auth/register", 201, json={"id": "x"}),
        "429 without Retry-After": _response(
            "POST",
            "/api/v1/auth/login/json",
            429,
            json={"error": {"code": "RATE_LIMITED", "message": "m", "details": []}},
        ),
        "datetime without Z": _response(
            "GET", "/api/v1/users/me", 200, json={"created_at": "2026-01-01T00:00:00+00:00"}
        ),
        "not among": _response("GET", "/api/v1/users/me", 200, text="hi"),
        "code NO_SUCH_CODE not documented": _response(
            "GET",
            "/api/v1/users/me",
            401,
            json={"error": {"code": "NO_SUCH_CODE", "message": "m", "details": []}},
        ),
        "not the error shape": _response(
            "GET",
            "/api/v1/users/me",
            401,
            json={"error": {"code": "INVALID_TOKEN", "message": "m", "details": [{"x": 1}]}},
        ),
    }
    for expected, response in cases.items():
        found = contract.violations(app, response)
        assert any(expected in problem for problem in found), (expected, found)
    outside = _response("GET", "/api/v1/_test/anything", 500, text="x")
    assert contract.violations(app, outside) == []  # not in the spec: not checked
