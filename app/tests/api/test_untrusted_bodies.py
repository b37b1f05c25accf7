"""Bodies and forms, continued: the defects found by attacking the running server during the
issue-8 audit, and their neighbours. Each answer is a 4xx in the common error shape, bounded
in size, and costs little."""

from __future__ import annotations

import json

import httpx
import pytest

from app.core.exceptions import MAX_DETAILS
from app.tests.errors import assert_error
from app.tests.factories import DEFAULT_PASSWORD, UserWithToken, event_body, make_org
from app.tests.hostile import assert_answered
from app.utils.strict_json import MAX_VALUES

API = "/api/v1"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def json_headers(user: UserWithToken) -> dict[str, str]:
    return {**user.headers, "content-type": "application/json"}


# --- JSON bodies: how many values, how many errors ------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{" + ",".join(f'"k{i}":1' for i in range(60_000)) + "}",  # was 2–4 s and 5 MB of 422
        "[" + ",".join(["0"] * 200_000) + "]",
        '{"name": "Org", "type": "ngo", "tags": [' + ",".join(["[]"] * 100_000) + "]}",
    ],
    ids=["60k-unknown-keys", "200k-array", "100k-nested-lists"],
)
async def test_a_body_with_too_many_values_is_refused_before_validation(
    client: httpx.AsyncClient, admin: UserWithToken, body: str
) -> None:
    response = await client.post(f"{API}/organisations", headers=json_headers(admin), content=body)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert error["error"]["details"][0]["type"] == "json_invalid"
    assert f"more than {MAX_VALUES} values" in error["error"]["details"][0]["msg"]
    assert len(response.content) < 1_000
    # refused by the value count before validation; its cost (~0.1 s) is a README figure


async def test_many_problems_are_one_short_answer(
    client: httpx.AsyncClient, admin: UserWithToken
) -> None:
    """Under the value bound, every unknown key is still a validation error: the answer lists
    the first MAX_DETAILS and counts the rest; an echoed key is cut short."""
    keys = {f"unknown_{i}": 1 for i in range(MAX_VALUES - 10)}
    keys["x" * 50_000] = 1
    response = await client.post(
        f"{API}/organisations", headers=json_headers(admin), content=json.dumps(keys)
    )
    details = assert_error(response, 422, "VALIDATION_ERROR")["error"]["details"]
    assert len(details) == MAX_DETAILS + 1
    assert details[-1]["type"] == "too_many_errors"
    assert details[-1]["msg"].split()[0].isdigit()
    assert all(len(part) <= 100 for d in details for part in d["loc"])
    assert len(response.content) < 20_000


async def test_ordinary_bodies_are_far_below_the_bound(
    client: httpx.AsyncClient, admin: UserWithToken
) -> None:
    """The largest bodies we take (a full event) stay valid: the bound only stops abuse."""
    org = await make_org(client, admin)
    body = event_body(org["id"], tags=["funding"] * 1, sdgs=["sdg-8"])
    response = await client.post(f"{API}/events", headers=admin.headers, json=body)
    assert response.status_code == 201, response.text


# --- date-times in bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",  # overflows when converted to UTC: was a 500 in queries
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T20:00:00Z",  # an .ics in Pacific/Kiritimati would overflow
        "1899-12-31T23:59:59Z",
        "3000-01-01T00:00:00Z",
    ],
)
async def test_date_times_outside_the_range_are_422(
    client: httpx.AsyncClient, admin: UserWithToken, value: str
) -> None:
    org = await make_org(client, admin)
    body = event_body(org["id"], start_at=value, end_at=value, timezone="Pacific/Kiritimati")
    response = await client.post(f"{API}/events", headers=admin.headers, json=body)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert {tuple(d["loc"]) for d in error["error"]["details"]} >= {("body", "start_at")}
    assert "1900-01-01" in error["error"]["details"][0]["msg"]


async def test_date_times_at_the_range_edges_work_end_to_end(
    client: httpx.AsyncClient, admin: UserWithToken
) -> None:
    """The latest accepted start, in the zone furthest ahead, still renders as iCalendar."""
    org = await make_org(client, admin)
    body = event_body(
        org["id"],
        start_at="2999-12-31T20:00:00Z",
        end_at="2999-12-31T23:59:59Z",
        timezone="Pacific/Kiritimati",
    )
    created = await client.post(f"{API}/events", headers=admin.headers, json=body)
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    assert (await client.post(f"{API}/events/{event_id}/publish", headers=admin.headers)).is_success
    ics = await client.get(f"{API}/events/{event_id}.ics")
    assert ics.status_code == 200
    assert "DTSTART;TZID=Pacific/Kiritimati:30000101T" in ics.text


# --- the login form -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "where"),
    [
        ({"username": "a@example.org", "password": "x" * 5000}, "password"),  # was a 500
        ({"username": "a@example.org", "password": "x" * 1025}, "password"),
        ({"username": "a" * 400 + "@example.org", "password": "x"}, "username"),
        ({"username": "a@example.org", "password": "x", "scope": "s" * 5000}, "scope"),
        ({"username": "a@example.org", "password": "x", "client_secret": "c" * 500}, "client_secret"),
        ({"username": "a@example.org", "password": "x", "grant_type": "client_credentials"}, "grant_type"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)  # fmt: skip
async def test_login_form_fields_are_bounded(
    client: httpx.AsyncClient, form: dict[str, str], where: str
) -> None:
    response = await client.post(f"{API}/auth/login", data=form)
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert ["body", where] in [d["loc"] for d in error["error"]["details"]]


async def test_both_login_routes_take_the_same_bounds(client: httpx.AsyncClient) -> None:
    long = "x" * 5000
    as_json = await client.post(
        f"{API}/auth/login/json", json={"email": "a@example.org", "password": long}
    )
    assert_error(as_json, 422, "VALIDATION_ERROR")
    as_form = await client.post(
        f"{API}/auth/login", data={"username": "a@example.org", "password": long}
    )
    assert_error(as_form, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize("field", ["username", "password"])
async def test_a_repeated_form_field_is_422(
    client: httpx.AsyncClient, entrepreneur: UserWithToken, field: str
) -> None:
    """FastAPI keeps the last of `username=a&username=b`: a proxy or log and the API could
    disagree about who logged in. Refused, like a repeated query parameter."""
    values = {"username": entrepreneur.email, "password": entrepreneur.password}
    content = f"username={values['username']}&password={values['password']}&{field}=other"
    response = await client.post(f"{API}/auth/login", content=content.encode(), headers=FORM)
    error = assert_error(response, 422, "REPEATED_FORM_FIELD")
    assert error["error"]["details"][0]["loc"] == ["body", field]
    once = await client.post(f"{API}/auth/login", data=values)
    assert once.status_code == 200, once.text


async def test_swagger_authorize_form_still_logs_in(
    client: httpx.AsyncClient, entrepreneur: UserWithToken
) -> None:
    form = {
        "grant_type": "password",
        "username": entrepreneur.email,
        "password": DEFAULT_PASSWORD,
        "scope": "",
        "client_id": "",
        "client_secret": "",
    }
    response = await client.post(f"{API}/auth/login", data=form)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("route", ["login", "login/json"])
async def test_any_address_logs_in_through_either_route(
    client: httpx.AsyncClient, make_user, route: str
) -> None:
    """The demo admin is `admin@runwei.local`, a special-use domain an e-mail validator
    refuses: the JSON route answered 422 while the form logged in. Login only looks the
    address up, so both routes take any bounded string."""
    user = await make_user(role="admin", email="admin@runwei.local")
    if route == "login":
        response = await client.post(
            f"{API}/auth/login", data={"username": user.email, "password": user.password}
        )
    else:
        response = await client.post(
            f"{API}/auth/login/json",
            json={"email": " Admin@RunWei.local ", "password": user.password},
        )
    assert response.status_code == 200, response.text
    wrong = await client.post(
        f"{API}/auth/login/json", json={"email": "not an address", "password": "x"}
    )
    assert_answered(wrong)
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
