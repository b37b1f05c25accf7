"""Hostile input over HTTP, the defects found by attacking the running app (and their
neighbours): each is a 4xx in the common error shape, never a 5xx. The property-based
attacks are in test_untrusted_input.py."""

from __future__ import annotations

import importlib
import json
import pkgutil

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.api.routing import StrictRoute
from app.api.v1 import endpoints
from app.tests.errors import assert_error
from app.tests.factories import UserWithToken, make_org
from app.tests.hostile import assert_answered, b64, raw_get, with_params

API = "/api/v1"


def short(value: object) -> str | None:
    """Readable test ids for long hostile values."""
    return repr(value)[:40] if isinstance(value, bytes | str) else None


@pytest.mark.parametrize(
    "payload",
    [
        {"s": "relevance", "v": 1, "i": "zz"},  # was a 500 (bson InvalidId) after 27 s of logging
        {"s": "relevance", "v": "1", "i": "0" * 24},
        {"s": "relevance", "v": -5, "i": "0" * 24},
        {"s": "relevance", "v": 10**30, "i": "0" * 24},
        {"s": "deadline", "v": "abc", "i": "0" * 24},  # was a 200 comparing a string to dates
        {"s": "deadline", "v": None, "i": "0" * 24},
    ],
)
async def test_found_cursor_defects(client: httpx.AsyncClient, payload) -> None:
    cursor = b64(json.dumps(payload).encode())
    url = f"{API}/opportunities?q=2027" if payload["s"] == "relevance" else f"{API}/opportunities"
    response = await client.get(with_params(url, cursor=cursor))
    error = assert_answered(response)
    assert error is not None
    assert error["error"]["code"] == "INVALID_CURSOR"
    assert error["error"]["details"] == [
        {
            "loc": ["query", "cursor"],
            "msg": error["error"]["details"][0]["msg"],
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        (b"q=%ZZ", 400, "INVALID_QUERY_STRING"),
        (b"q=\xff\xfe", 400, "INVALID_QUERY_STRING"),  # raw bytes, not UTF-8
        (b"q=%ff%fe", 400, "INVALID_QUERY_STRING"),
        (b"q=a%00b", 400, "INVALID_QUERY_STRING"),
        (b"q=a\x00b", 400, "INVALID_QUERY_STRING"),
        (b"q=" + b"a" * 9000, 414, "URI_TOO_LONG"),
        (b"limit=1&limit=100", 422, "REPEATED_QUERY_PARAMETER"),
        (b"sort=newest&sort=deadline", 422, "REPEATED_QUERY_PARAMETER"),
        (b"cursor=a&cursor=b", 422, "REPEATED_QUERY_PARAMETER"),
        (b"limit=" + b"9" * 5000, 422, "VALIDATION_ERROR"),
        (b"updated_since=" + b"1" * 5000, 422, "VALIDATION_ERROR"),
        # Beyond int64: mongomock compares it in Python, real MongoDB cannot encode it (a 500).
        (b"amount_min=99999999999999999999999&currency=USD", 422, "VALIDATION_ERROR"),
    ],
    ids=short,
)
async def test_query_string_defects(
    app: FastAPI, admin: UserWithToken, query: bytes, status: int, code: str
) -> None:
    response = await raw_get(app, f"{API}/opportunities", query, admin.headers)
    error = assert_answered(response)
    assert response.status_code == status
    assert error is not None
    assert error["error"]["code"] == code


async def test_list_parameters_may_repeat(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/opportunities?tags=funding&tags=mentorship")
    assert response.status_code == 200  # list parameters take several values, as documented


@pytest.mark.parametrize(
    "token",
    [
        b64(b"[" * 5000 + b"]" * 5000) + ".e30.sig",  # was a 500 after 24 s of logging
        "a.b.c.d",
        "x" * 60_000,
        "é" * 40,
        b64(b'{"alg":"none"}') + "." + b64(b'{"sub":"x","type":"access"}') + ".",
    ],
    ids=short,
)
async def test_hostile_bearer_tokens(
    client: httpx.AsyncClient, admin: UserWithToken, token: str
) -> None:
    response = await client.get(
        f"{API}/users/me", headers={b"authorization": f"Bearer {token}".encode()}
    )
    error = assert_answered(response)
    assert error is not None
    assert error["error"]["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name": "a", "name": "Org two", "type": "ngo"}', "duplicate key"),
        (b'{"name": "Org", "type": "ngo", "x": NaN}', "NaN"),
        (b'{"name": "Org", "type": "ngo", "x": 1e999}', "number out of range"),
        (b'{"name": "Org", "type": "ngo", "x": ' + b"1" * 5000 + b"}", "integer out of range"),
        (b'{"name": "\xff\xfe"}', "UTF-8"),
        (b'{"name": "\\udc00 Org"}', "surrogate"),
        (b"[" * 50_000 + b"]" * 50_000, "nested deeper"),
    ],
    ids=short,
)
async def test_json_body_defects(
    client: httpx.AsyncClient, admin: UserWithToken, body: bytes, reason: str
) -> None:
    response = await client.post(
        f"{API}/organisations",
        headers={**admin.headers, "content-type": "application/json"},
        content=body,
    )
    error = assert_answered(response)
    assert error is not None
    assert_error(response, 422, "VALIDATION_ERROR")
    assert error["error"]["details"][0]["type"] == "json_invalid"
    assert reason in error["error"]["details"][0]["msg"]


async def test_integers_mongodb_cannot_store_are_422_not_500(
    client: httpx.AsyncClient, admin: UserWithToken
) -> None:
    """Found by attacking the running app: amount_min=10**20 passed validation (ge=0, no
    upper bound) and failed in BSON encoding — a 500."""
    org = await make_org(client, admin)
    body = {
        "organisation_id": org["id"],
        "title": "Huge amounts",
        "description": "<p>x</p>",
        "type": "grant",
        "amount_min": 10**20,
        "amount_max": 10**20,
        "currency": "USD",
    }
    response = await client.post(f"{API}/opportunities", headers=admin.headers, json=body)
    error = assert_answered(response)
    assert error is not None
    assert "integer out of range" in error["error"]["details"][0]["msg"]


@pytest.mark.parametrize(
    ("url", "content_type", "code"),
    [
        (f"{API}/organisations", "text/plain", "JSON_REQUIRED"),
        (f"{API}/organisations", "application/x-www-form-urlencoded", "JSON_REQUIRED"),
        (f"{API}/organisations", "", "JSON_REQUIRED"),
        (f"{API}/auth/login", "application/json", "FORM_REQUIRED"),
    ],
)
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, admin: UserWithToken, url: str, content_type: str, code: str
) -> None:
    headers = {**admin.headers, "content-type": content_type}
    response = await client.post(url, headers=headers, content=b'{"name": "Org", "type": "ngo"}')
    error = assert_answered(response)
    assert response.status_code == 415
    assert error is not None
    assert error["error"]["code"] == code


async def test_json_variants_are_accepted(client: httpx.AsyncClient, admin: UserWithToken) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.patch(
            f"{API}/users/me",
            headers={**admin.headers, "content-type": content_type},
            content=b'{"full_name": "Ada Admin"}',
        )
        assert response.status_code == 200, response.text


def test_every_endpoint_module_decodes_strictly() -> None:
    """A router added later (or by another change) must use StrictRoute, or its JSON
    bodies and query parameters would be decoded leniently again."""
    checked = 0
    for module_info in pkgutil.iter_modules(endpoints.__path__):
        module = importlib.import_module(f"{endpoints.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if router is None:
            continue
        assert router.route_class is StrictRoute, module_info.name
        routes = [r for r in router.routes if isinstance(r, APIRoute)]
        assert all(isinstance(r, StrictRoute) for r in routes), module_info.name
        checked += len(routes)
    assert checked >= 60
