"""Media uploads, run against both storage backends: local disk and Azurite (real Azure
Storage emulator). Hostile inputs each get a clear 4xx and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import httpx
import pytest
from httpx import AsyncClient
from PIL import Image

from app.models.media import Media
from app.models.profile import Profile
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_org

API = "/api/v1/media"


@pytest.fixture(params=["local", "azure"])
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    overrides: dict[str, Any] = {
        "media_max_image_bytes": 200_000,
        "media_max_attachment_bytes": 300_000,
    }
    if request.param == "azure":
        overrides.update(
            storage_backend="azure",
            azure_storage_connection_string=request.getfixturevalue("azurite"),
            azure_storage_container=f"media{uuid.uuid4().hex[:12]}",
        )
    return overrides


def png(size: tuple[int, int] = (64, 48), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (80, 60), "blue")
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the fixture really has GPS
    return data


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def upload(
    client: AsyncClient,
    who,
    data: bytes,
    purpose: str | None = "avatar",
    name: str = "a.png",
    ctype: str = "image/png",
):
    form = {"purpose": purpose} if purpose is not None else {}
    return await client.post(
        API, headers=who.headers, data=form, files={"file": (name, data, ctype)}
    )


async def stored_names(app) -> list[str]:
    return [name async for name, _ in app.state.storage.names()]


async def download(
    client: AsyncClient, url: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Follow the API: a local stream, or a 307 to a SAS URL fetched over real HTTP (Azurite)."""
    response = await client.get(url, headers=headers or {})
    if response.status_code == 307:
        assert "sig=" in response.headers["location"]
        assert response.headers["cache-control"] == "private, no-store"
        async with httpx.AsyncClient() as real:
            return await real.get(response.headers["location"])
    return response


async def test_upload_metadata_content_and_thumbnail(
    app, client: AsyncClient, entrepreneur
) -> None:
    response = await upload(client, entrepreneur, png((600, 300)))
    assert response.status_code == 201, response.text
    media = response.json()
    assert response.headers["location"] == f"{API}/{media['id']}"
    # For <img src>: absolute, from PUBLIC_BASE_URL.
    assert media["content_url"] == f"http://127.0.0.1:8000{API}/{media['id']}/content"
    assert media["thumbnail_url"] == f"{media['content_url']}?thumbnail=true"
    assert (media["purpose"], media["content_type"], media["width"], media["height"]) == (
        "avatar",
        "image/png",
        600,
        300,
    )
    assert media["has_thumbnail"] is True
    # Attached to nothing yet: the uploader's (and staff's) alone.
    assert_error((await client.get(f"{API}/{media['id']}")), 404, "MEDIA_NOT_FOUND")
    assert_error((await client.get(media["content_url"])), 404, "MEDIA_NOT_FOUND")
    meta = await client.get(f"{API}/{media['id']}", headers=entrepreneur.headers)
    assert meta.json()["sha256"] == media["sha256"]
    content = await download(client, media["content_url"], entrepreneur.headers)
    assert content.status_code == 200
    assert hashlib.sha256(content.content).hexdigest() == media["sha256"]
    assert content.headers["content-type"] == "image/png"
    assert content.headers["content-disposition"].startswith("inline")
    thumb = await download(client, media["thumbnail_url"], entrepreneur.headers)
    assert Image.open(io.BytesIO(thumb.content)).size == (256, 128)
    doc = await Media.get(media["id"])
    assert doc.backend == app.state.storage.backend
    assert doc.blob_name.startswith("avatar/")
    assert doc.blob_name.endswith(".png")
    assert sorted(await stored_names(app)) == sorted([doc.blob_name, str(doc.thumbnail_blob_name)])


async def test_exif_and_gps_stripped(client: AsyncClient, entrepreneur) -> None:
    response = await upload(
        client,
        entrepreneur,
        jpeg_with_gps(),
        purpose="cover_image",
        name="p.jpg",
        ctype="image/jpeg",
    )
    assert response.status_code == 201
    content = await download(client, response.json()["content_url"], entrepreneur.headers)
    exif = Image.open(io.BytesIO(content.content)).getexif()
    assert len(exif) == 0
    assert b"SpyCam" not in content.content


async def test_pdf_attachment_private(client: AsyncClient, entrepreneur, make_user, staff) -> None:
    response = await upload(
        client, entrepreneur, pdf(), purpose="attachment", name="plan.pdf", ctype="application/pdf"
    )
    assert response.status_code == 201
    media = response.json()
    other = await make_user()
    assert_error(
        (await client.get(f"{API}/{media['id']}", headers=other.headers)), 404, "MEDIA_NOT_FOUND"
    )
    assert_error((await client.get(media["content_url"])), 404, "MEDIA_NOT_FOUND")
    mine = await download(client, media["content_url"], entrepreneur.headers)
    assert mine.content == pdf()
    assert mine.headers["content-disposition"].startswith("attachment")
    assert (await client.get(f"{API}/{media['id']}", headers=staff.headers)).status_code == 200
    assert_error(
        (await client.delete(f"{API}/{media['id']}", headers=other.headers)), 404, "MEDIA_NOT_FOUND"
    )


async def test_delete_and_permissions(
    app, client: AsyncClient, entrepreneur, make_user, staff
) -> None:
    await client.put(
        "/api/v1/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "A", "business_name": "B", "visibility": "public"},
    )
    media = (
        await client.put(
            "/api/v1/profiles/me/avatar",
            headers=entrepreneur.headers,
            files={"file": ("a.png", png(), "image/png")},
        )
    ).json()
    other = await make_user()
    assert (await client.get(f"{API}/{media['id']}", headers=other.headers)).status_code == 200
    assert_error(
        (await client.delete(f"{API}/{media['id']}", headers=other.headers)), 403, "NOT_MEDIA_OWNER"
    )
    assert (await client.delete(f"{API}/{media['id']}", headers=staff.headers)).status_code == 204
    assert await stored_names(app) == []
    assert await Media.find_all().count() == 0
    assert_error((await client.get(f"{API}/{media['id']}")), 404, "MEDIA_NOT_FOUND")


async def test_avatar_replace_deletes_old(app, client: AsyncClient, entrepreneur) -> None:
    no_profile = await client.put(
        "/api/v1/profiles/me/avatar",
        headers=entrepreneur.headers,
        files={"file": ("a.png", png(), "image/png")},
    )
    assert_error(no_profile, 404, "PROFILE_NOT_FOUND")
    await client.put(
        "/api/v1/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "A", "business_name": "B"},
    )
    first = await client.put(
        "/api/v1/profiles/me/avatar",
        headers=entrepreneur.headers,
        files={"file": ("a.png", png(), "image/png")},
    )
    assert first.status_code == 200
    second = await client.put(
        "/api/v1/profiles/me/avatar",
        headers=entrepreneur.headers,
        files={"file": ("b.png", png(color="green"), "image/png")},
    )
    profile = await Profile.find_one(Profile.user_id == entrepreneur.user.id)
    assert str(profile.avatar_media_id) == second.json()["id"]
    assert await Media.find_all().count() == 1
    doc = await Media.get(second.json()["id"])
    assert sorted(await stored_names(app)) == sorted([doc.blob_name, str(doc.thumbnail_blob_name)])
    assert_error((await client.get(f"{API}/{first.json()['id']}")), 404, "MEDIA_NOT_FOUND")
    read = (await client.get("/api/v1/profiles/me", headers=entrepreneur.headers)).json()
    assert read["avatar_media_id"] == second.json()["id"]
    # Deleting the media clears the reference.
    await client.delete(f"{API}/{second.json()['id']}", headers=entrepreneur.headers)
    assert (await client.get("/api/v1/profiles/me", headers=entrepreneur.headers)).json()[
        "avatar_media_id"
    ] is None


async def test_logo_and_cover_need_membership(
    client: AsyncClient, partner, staff, make_user
) -> None:
    outsider = await make_user(role="partner")
    org = await make_org(client, partner)
    files = {"file": ("l.png", png(), "image/png")}
    refused = await client.put(
        f"/api/v1/organisations/{org['id']}/logo", headers=outsider.headers, files=files
    )
    assert_error(refused, 403, "NOT_ORGANISATION_MEMBER")
    logo = await client.put(
        f"/api/v1/organisations/{org['id']}/logo", headers=partner.headers, files=files
    )
    assert logo.status_code == 200
    assert (await client.get(f"/api/v1/organisations/{org['id']}")).json()[
        "logo_media_id"
    ] == logo.json()["id"]
    event = await make_event(client, partner, org["id"])
    assert (
        await client.put(
            f"/api/v1/events/{event['id']}/cover", headers=outsider.headers, files=files
        )
    ).status_code == 404
    cover = await client.put(
        f"/api/v1/events/{event['id']}/cover", headers=partner.headers, files=files
    )
    assert cover.status_code == 200
    assert cover.json()["purpose"] == "cover_image"


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 200


def _huge_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buffer, format="PNG")
    return buffer.getvalue()


HOSTILE: dict[str, tuple[dict[str, Any], int, str]] = {
    "executable_named_png": ({"data": _elf(), "name": "evil.png", "ctype": "image/png"}, 415, "UNSUPPORTED_FILE_TYPE"),
    "text_claiming_jpeg": ({"data": b"hello, I am a JPEG", "name": "x.jpg", "ctype": "image/jpeg"}, 415, "UNSUPPORTED_FILE_TYPE"),
    "pdf_as_avatar": ({"data": pdf(), "name": "x.png"}, 415, "UNSUPPORTED_FILE_TYPE"),
    "png_as_attachment": ({"data": png(), "purpose": "attachment"}, 415, "UNSUPPORTED_FILE_TYPE"),
    "truncated_image": ({"data": png((300, 300))[:200]}, 422, "INVALID_IMAGE"),
    "empty_file": ({"data": b""}, 422, "EMPTY_FILE"),
    "missing_purpose": ({"data": png(), "purpose": None}, 422, "PURPOSE_REQUIRED"),
    "unknown_purpose": ({"data": png(), "purpose": "malware"}, 422, "INVALID_PURPOSE"),
    "truncated_pdf": ({"data": pdf()[:20], "purpose": "attachment", "ctype": "application/pdf"}, 422, "INVALID_PDF"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_uploads_leave_nothing(
    app, client: AsyncClient, entrepreneur, case: str
) -> None:
    kwargs, status, code = HOSTILE[case]
    response = await upload(client, entrepreneur, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await Media.find_all().count() == 0
    assert await stored_names(app) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's backstop
async def test_decompression_bomb_refused(app, client: AsyncClient, entrepreneur) -> None:
    response = await upload(client, entrepreneur, _huge_png(), name="bomb.png")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IMAGE_TOO_LARGE"
    assert await stored_names(app) == []


async def test_one_byte_over_the_limit(app, client: AsyncClient, entrepreneur, settings) -> None:
    limit = settings.media_max_attachment_bytes
    body = pdf()
    exact = body[:-6] + b" " * (limit - len(body)) + body[-6:]
    assert len(exact) == limit
    ok = await upload(client, entrepreneur, exact, purpose="attachment", ctype="application/pdf")
    assert ok.status_code == 201
    over = await upload(
        client, entrepreneur, exact + b"\n", purpose="attachment", ctype="application/pdf"
    )
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "FILE_TOO_LARGE"
    assert await Media.find_all().count() == 1


@pytest.mark.parametrize(
    "settings_overrides",
    [{"media_max_image_bytes": 200_000, "body_drain_bytes": 1024 * 1024}],
)
async def test_limit_enforced_while_streaming(client: AsyncClient, entrepreneur, settings) -> None:
    """The server stops parsing once the limit is passed and stops reading once it has
    drained BODY_DRAIN_BYTES more (so the client can read the 413): most of a 10 MB body is
    never read."""
    boundary = "X-BOUNDARY"
    sent = 0

    async def body():
        nonlocal sent
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\navatar\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        yield head
        sent += len(head)
        chunk = b"\x89PNG\r\n\x1a\n" + b"\x00" * (64 * 1024 - 8)
        for _ in range(160):  # 10 MiB
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        API,
        headers={
            **entrepreneur.headers,
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=body(),
    )
    assert_error(response, 413, "FILE_TOO_LARGE")
    limit = settings.media_max_image_bytes + settings.body_drain_bytes
    assert sent < limit + 3 * 64 * 1024


async def test_path_traversal_name_is_only_metadata(app, client: AsyncClient, entrepreneur) -> None:
    response = await upload(client, entrepreneur, png(), name="../../etc/passwd")
    assert response.status_code == 201
    assert response.json()["original_filename"] == "passwd"
    names = await stored_names(app)
    assert all(n.startswith("avatar/") and ".." not in n for n in names)


async def test_not_multipart_and_no_file(client: AsyncClient, entrepreneur) -> None:
    as_json = await client.post(API, headers=entrepreneur.headers, json={"purpose": "avatar"})
    assert_error(as_json, 415, "MULTIPART_REQUIRED")
    no_file = await client.post(
        API, headers=entrepreneur.headers, data={"purpose": "avatar"}, files={"other": ("", b"")}
    )
    assert_error(no_file, 422, "FILE_REQUIRED")
    anonymous = await client.post(
        API, data={"purpose": "avatar"}, files={"file": ("a.png", png(), "image/png")}
    )
    assert_error(anonymous, 401, "NOT_AUTHENTICATED")


async def test_unknown_and_malformed_ids(client: AsyncClient) -> None:
    assert_error((await client.get(f"{API}/64b7f0c2a1b2c3d4e5f60718")), 404, "MEDIA_NOT_FOUND")
    assert_error((await client.get(f"{API}/../../etc/passwd/content")), 404, "NOT_FOUND")
