"""A file follows its owner's visibility: media attached to a profile, an organisation, an
opportunity or an event is visible exactly to those who may see the owner (and staff), and
media ids cannot be found by counting."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.models.base import utcnow
from app.models.media import Media, MediaOwnerKind, MediaPurpose
from app.models.organisation import Organisation
from app.models.profile import Profile
from app.services import media_upkeep
from app.tests.api.test_media import png, upload
from app.tests.errors import assert_error
from app.tests.factories import make_event, make_opportunity, make_org

API = "/api/v1"
FILES = {"file": ("c.png", png((700, 400)), "image/png")}
STATES = ["draft", "pending_review", "published", "closed", "cancelled", "archived"]
HIDDEN_FROM_OUTSIDERS = {"draft", "pending_review", "cancelled", "archived"}


async def _to_state(client: AsyncClient, path: str, state: str, member, staff) -> None:
    """Drive the item through the real workflow to `state`."""
    steps: dict[str, list[tuple[str, str, Any]]] = {
        "draft": [],
        "pending_review": [("POST", "submit", member)],
        "published": [("POST", "publish", staff)],
        "closed": [("POST", "publish", staff), ("POST", "close", member)],
        "cancelled": [("POST", "cancel", member)],
        "archived": [("DELETE", "", member)],
    }
    for method, action, who in steps[state]:
        url = f"{path}/{action}" if action else path
        body = {"reason": "test"} if action == "cancel" else None
        response = await client.request(method, url, headers=who.headers, json=body)
        assert response.status_code in (200, 204), response.text


async def _callers(make_user, partner, staff) -> dict[str, Any]:
    return {
        "anonymous": None,
        "entrepreneur": await make_user(),
        "member": partner,
        "other_org_member": await make_user(role="partner"),
        "staff": staff,
    }


async def _reach(client: AsyncClient, media: dict, who: Any) -> tuple[int, int, int]:
    headers = who.headers if who is not None else {}
    meta = await client.get(f"{API}/media/{media['id']}", headers=headers)
    content = await client.get(media["content_url"], headers=headers)
    thumb_url = media["thumbnail_url"] or f"{media['content_url']}?thumbnail=true"
    thumb = await client.get(thumb_url, headers=headers)
    return meta.status_code, content.status_code, thumb.status_code


@pytest.mark.parametrize("kind", ["opportunities", "events"])
@pytest.mark.parametrize("state", STATES)
async def test_cover_follows_item_visibility(
    client: AsyncClient, partner, staff, make_user, kind: str, state: str
) -> None:
    org = await make_org(client, partner)
    make = make_opportunity if kind == "opportunities" else make_event
    item = await make(client, partner, org["id"])
    path = f"{API}/{kind}/{item['id']}"
    cover = await client.put(f"{path}/cover", headers=partner.headers, files=FILES)
    assert cover.status_code == 200, cover.text
    media = cover.json()
    callers = await _callers(make_user, partner, staff)
    await make_org(client, callers["other_org_member"])
    await _to_state(client, path, state, partner, staff)

    wrong = []
    for name, who in callers.items():
        headers = who.headers if who is not None else {}
        owner_visible = (await client.get(path, headers=headers)).status_code == 200
        # The file is visible exactly when its item is (staff see every file) …
        want = 200 if owner_visible or name == "staff" else 404
        # … and where the rules leave no doubt, independently of the item endpoint:
        if name in ("member", "staff") or state == "published":
            want = 200 if want == 200 else -200
        elif state in HIDDEN_FROM_OUTSIDERS:
            want = 404 if want == 404 else -404
        got = await _reach(client, media, who)
        if got != (want, want, want):
            wrong.append((name, got, want))
    assert wrong == [], f"{kind} {state}: {wrong}"


@pytest.mark.parametrize("visibility", ["public", "members", "private"])
async def test_avatar_follows_profile_visibility(
    client: AsyncClient, entrepreneur, make_user, staff, admin, visibility: str
) -> None:
    await client.put(
        f"{API}/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "A", "business_name": "B", "visibility": visibility},
    )
    avatar = await client.put(
        f"{API}/profiles/me/avatar", headers=entrepreneur.headers, files=FILES
    )
    assert avatar.status_code == 200
    media = avatar.json()
    expected = {
        "anonymous": (None, visibility == "public"),
        "other_user": (await make_user(), visibility != "private"),
        "owner": (entrepreneur, True),
        "staff": (staff, True),
        "admin": (admin, True),
    }
    wrong = []
    for name, (who, visible) in expected.items():
        status = 200 if visible else 404
        got = await _reach(client, media, who)
        if got != (status, status, status):
            wrong.append((name, got, status))
    assert wrong == []
    # Making the profile private hides the avatar at once.
    await client.patch(
        f"{API}/profiles/me", headers=entrepreneur.headers, json={"visibility": "private"}
    )
    assert (await _reach(client, media, None)) == (404, 404, 404)


async def test_logo_of_archived_organisation(
    client: AsyncClient, partner, staff, make_user, admin
) -> None:
    org = await make_org(client, partner)
    logo = (
        await client.put(
            f"{API}/organisations/{org['id']}/logo", headers=partner.headers, files=FILES
        )
    ).json()
    outsider = await make_user()
    assert await _reach(client, logo, None) == (200, 200, 404)  # logos have no thumbnail
    archived = await client.delete(f"{API}/organisations/{org['id']}", headers=partner.headers)
    assert archived.status_code == 204, archived.text
    assert await _reach(client, logo, None) == (404, 404, 404)
    assert await _reach(client, logo, outsider) == (404, 404, 404)
    assert await _reach(client, logo, partner) == (200, 200, 404)
    assert await _reach(client, logo, staff) == (200, 200, 404)


async def test_unattached_upload_is_private(
    client: AsyncClient, entrepreneur, make_user, staff
) -> None:
    media = (await upload(client, entrepreneur, png(), purpose="cover_image")).json()
    assert await _reach(client, media, None) == (404, 404, 404)
    assert await _reach(client, media, await make_user()) == (404, 404, 404)
    assert await _reach(client, media, entrepreneur) == (200, 200, 200)
    assert await _reach(client, media, staff) == (200, 200, 200)


async def test_cache_control_follows_visibility(client: AsyncClient, partner, staff) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"])
    path = f"{API}/opportunities/{item['id']}"
    media = (await client.put(f"{path}/cover", headers=partner.headers, files=FILES)).json()
    draft = await client.get(media["content_url"], headers=partner.headers)
    assert draft.headers["cache-control"].startswith("private")
    await client.post(f"{path}/publish", headers=staff.headers)
    public = await client.get(media["content_url"], headers=partner.headers)
    assert public.headers["cache-control"] == "public, max-age=300"


async def test_item_managers_may_delete_a_colleagues_cover(
    client: AsyncClient, partner, staff, make_user
) -> None:
    org = await make_org(client, partner)
    colleague = await make_user(role="partner")
    await Organisation.get_motor_collection().update_one(
        {"_id": ObjectId(org["id"])},
        {
            "$push": {
                "members": {"user_id": colleague.user.id, "role": "editor", "added_at": utcnow()}
            }
        },
    )
    item = await make_opportunity(client, partner, org["id"], publish_as=staff)
    path = f"{API}/opportunities/{item['id']}"
    media = (await client.put(f"{path}/cover", headers=partner.headers, files=FILES)).json()
    stranger = await make_user(role="partner")
    refused = await client.delete(f"{API}/media/{media['id']}", headers=stranger.headers)
    assert_error(refused, 403, "NOT_MEDIA_OWNER")
    gone = await client.delete(f"{API}/media/{media['id']}", headers=colleague.headers)
    assert gone.status_code == 204
    assert (await client.get(path)).json()["cover_media_id"] is None


async def test_deleting_a_cover_is_a_new_version_of_its_item(
    client: AsyncClient, partner, staff
) -> None:
    """A cache holding the item with its cover must not be told 'not modified'."""
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"], publish_as=staff)
    path = f"{API}/opportunities/{item['id']}"
    media = (await client.put(f"{path}/cover", headers=partner.headers, files=FILES)).json()
    before = await client.get(path)
    assert before.json()["cover_media_id"] == media["id"]
    gone = await client.delete(f"{API}/media/{media['id']}", headers=partner.headers)
    assert gone.status_code == 204
    after = await client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["cover_media_id"] is None
    assert after.headers["etag"] != before.headers["etag"]


async def test_owner_gone_leaves_the_file_to_its_uploader(
    client: AsyncClient, partner, admin, make_user
) -> None:
    org = await make_org(client, partner)
    item = await make_opportunity(client, partner, org["id"])
    path = f"{API}/opportunities/{item['id']}"
    media = (await client.put(f"{path}/cover", headers=partner.headers, files=FILES)).json()
    assert (await client.delete(path, headers=partner.headers)).status_code == 204
    assert (await client.delete(f"{path}/purge", headers=admin.headers)).status_code == 204
    assert await _reach(client, media, partner) == (200, 200, 200)
    assert await _reach(client, media, await make_user()) == (404, 404, 404)


async def test_media_ids_are_not_sequential(client: AsyncClient, entrepreneur) -> None:
    ids = []
    for _ in range(12):
        response = await upload(client, entrepreneur, png((8, 8)))
        assert response.status_code == 201
        ids.append(ObjectId(response.json()["id"]))
    assert len(set(ids)) == len(ids)
    now = utcnow()
    # A regular ObjectId starts with its creation time and ends with a counter; these don't.
    near_now = [i for i in ids if abs(i.generation_time - now) < timedelta(days=1)]
    assert len(near_now) <= 1
    counters = [int.from_bytes(i.binary[-3:], "big") for i in ids]
    steps = {b - a for a, b in itertools.pairwise(counters)}
    assert steps != {1}
    assert ids != sorted(ids)
    # No two ids share more than a chance prefix.
    prefixes = {i.binary[:4] for i in ids}
    assert len(prefixes) == len(ids)


async def test_old_sequential_ids_still_work(client: AsyncClient, entrepreneur) -> None:
    await client.put(
        f"{API}/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "A", "business_name": "B", "visibility": "public"},
    )
    avatar = (
        await client.put(f"{API}/profiles/me/avatar", headers=entrepreneur.headers, files=FILES)
    ).json()
    # Rewrite the record as one written before this change: a regular ObjectId, no owner link.
    doc = await Media.get_motor_collection().find_one({"_id": ObjectId(avatar["id"])})
    assert doc is not None
    old_id = ObjectId()
    doc["_id"] = old_id
    del doc["attached_to"]
    await Media.get_motor_collection().delete_one({"_id": ObjectId(avatar["id"])})
    await Media.get_motor_collection().insert_one(doc)
    await Profile.get_motor_collection().update_one(
        {"user_id": entrepreneur.user.id}, {"$set": {"avatar_media_id": old_id}}
    )
    stray = {**doc, "_id": ObjectId(), "blob_name": doc["blob_name"].replace(".png", "0.png")}
    await Media.get_motor_collection().insert_one(stray)

    # Before the backfill the legacy record is its uploader's only; after, it is the profile's.
    assert_error((await client.get(f"{API}/media/{old_id}")), 404, "MEDIA_NOT_FOUND")
    assert await media_upkeep.backfill_owner_links() == 1
    assert await media_upkeep.backfill_owner_links() == 0  # idempotent
    linked = await Media.get(old_id)
    assert linked is not None
    assert linked.attached_to is not None
    assert (linked.attached_to.kind, linked.attached_to.id) == (
        MediaOwnerKind.profile,
        (await Profile.find_one(Profile.user_id == entrepreneur.user.id)).id,
    )
    assert (await client.get(f"{API}/media/{old_id}")).status_code == 200
    unattached = await Media.get_motor_collection().find_one({"_id": stray["_id"]})
    assert unattached is not None
    assert "attached_to" in unattached
    assert unattached["attached_to"] is None
    assert_error((await client.get(f"{API}/media/{stray['_id']}")), 404, "MEDIA_NOT_FOUND")
    assert linked.purpose is MediaPurpose.avatar
