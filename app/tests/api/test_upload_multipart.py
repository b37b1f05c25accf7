"""The streaming multipart reader of every upload route, fed hostile framing: boundaries of
any length and content, arbitrary bytes, broken part headers. Always a 4xx in the common
error shape (or a 201 for what really is an upload), never a 5xx.

Found by attacking the running server: a boundary longer than python-multipart's 256-byte
maximum raised `FormParserError` from the parser's constructor, outside the reader's error
handling — a 500 on every upload route.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from app.api.uploads import MAX_BOUNDARY, UploadRoute
from app.tests.errors import assert_error
from app.tests.factories import UserWithToken, make_org
from app.tests.hostile import assert_answered

API = "/api/v1"
HTTP = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def multipart(boundary: bytes, purpose: str = "avatar") -> bytes:
    return (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n'
        + purpose.encode() + b"\r\n--" + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        + b"Content-Type: image/png\r\n\r\n" + png() + b"\r\n--" + boundary + b"--\r\n"
    )  # fmt: skip


def upload_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every upload route in the route table."""
    return sorted(
        (method, str(context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, UploadRoute)
        for method in context.original_route.methods or ()
    )


@dataclass(frozen=True)
class Upload:
    method: str
    url: str
    staff_only: bool  # /admin (bulk imports): sent as staff; its form is not a media upload


@pytest.fixture
async def urls(
    app: FastAPI, client: httpx.AsyncClient, partner: UserWithToken, staff: UserWithToken
) -> list[Upload]:
    """Every upload route, made concrete for an organisation and items `partner` manages."""
    org = await make_org(client, partner)
    profile = await client.put(
        f"{API}/profiles/me",
        headers=partner.headers,
        json={"display_name": "Uploader", "business_name": "Uploads"},
    )
    assert profile.status_code in (200, 201), profile.text
    values = {"organisation_id": org["id"]}
    for kind in ("opportunities", "events"):
        body = (
            {"title": "Cover me", "description": "<p>x</p>", "type": "grant"}
            if kind == "opportunities"
            else {
                "title": "Cover me",
                "description": "<p>x</p>",
                "type": "workshop",
                "start_at": "2099-01-01T09:00:00Z",
                "end_at": "2099-01-01T10:00:00Z",
                "timezone": "UTC",
                "format": "online",
                "online_url": "https://meet.example.org/x",
            }
        )
        created = await client.post(
            f"{API}/{kind}", headers=partner.headers, json={**body, "organisation_id": org["id"]}
        )
        assert created.status_code == 201, created.text
        values["opportunity_id" if kind == "opportunities" else "event_id"] = created.json()["id"]
    out = []
    for method, path in upload_routes(app):
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, path
        staff_only = path.startswith(f"{API}/admin/")
        # a bulk import says what it imports; dry_run so nothing is written
        url = f"{path}?kind=opportunity&dry_run=true" if staff_only else path
        out.append(Upload(method, url, staff_only))
    assert len(out) >= 5  # media, avatar, logo, two covers
    return out


async def post(
    client: httpx.AsyncClient, who: UserWithToken, route: Upload, boundary: bytes, body: bytes
) -> httpx.Response:
    headers = {
        **who.headers,
        "content-type": (b"multipart/form-data; boundary=" + boundary).decode("latin-1"),
    }
    return await client.request(route.method, route.url, headers=headers, content=body)


@pytest.mark.parametrize("length", [MAX_BOUNDARY + 1, 257, 5000])
async def test_a_long_boundary_is_422_on_every_upload_route(
    client: httpx.AsyncClient,
    partner: UserWithToken,
    staff: UserWithToken,
    urls: list[Upload],
    length: int,
) -> None:
    boundary = b"b" * length
    for route in urls:
        who = staff if route.staff_only else partner
        response = await post(client, who, route, boundary, multipart(boundary))
        assert_error(response, 422, "INVALID_MULTIPART")


async def test_the_longest_boundary_allowed_works(
    client: httpx.AsyncClient, partner: UserWithToken, urls: list[Upload]
) -> None:
    boundary = b"b" * MAX_BOUNDARY
    for route in [u for u in urls if not u.staff_only]:  # media uploads: an image is stored
        response = await post(client, partner, route, boundary, multipart(boundary))
        assert response.status_code in (200, 201), (route.url, response.text)


boundaries = st.binary(min_size=1, max_size=300).filter(
    lambda b: re.fullmatch(rb"[\x21-\x7e]+", b) is not None and b";" not in b and b'"' not in b
)


@HTTP
@given(data=st.data())
async def test_any_framing_is_answered(
    client: httpx.AsyncClient,
    partner: UserWithToken,
    staff: UserWithToken,
    urls: list[Upload],
    data: st.DataObject,
) -> None:
    route = data.draw(st.sampled_from(urls), label="route")
    boundary = data.draw(boundaries, label="boundary")
    body = data.draw(
        st.binary(max_size=400)
        | st.just(multipart(boundary))
        | st.builds(lambda cut: multipart(boundary)[:cut], st.integers(0, 400))
        | st.builds(
            lambda junk: multipart(boundary).replace(b"Content-Disposition", junk, 1),
            st.binary(max_size=40),
        ),
        label="body",
    )
    response = await post(client, staff if route.staff_only else partner, route, boundary, body)
    assert_answered(response)
