"""Dismissals (`/me/dismissed`): idempotent, private, only for items the caller can see."""

from __future__ import annotations

import asyncio

from beanie import PydanticObjectId

from app.models.dismissal import Dismissal
from app.services import dismissals
from app.tests.errors import assert_error
from app.tests.factories import API, make_event, make_opportunity, make_org


async def _published(client, partner, staff):
    org = await make_org(client, partner)
    opp = await make_opportunity(client, partner, org["id"], publish_as=staff)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    return org, opp, event


async def test_dismiss_with_reason_list_and_take_back(client, partner, staff, entrepreneur):
    _, opp, event = await _published(client, partner, staff)
    url = f"{API}/me/dismissed/opportunity/{opp['id']}"
    first = await client.put(url, headers=entrepreneur.headers, json={"reason": "not_eligible"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["kind"], body["item_id"], body["reason"]) == (
        "opportunity",
        opp["id"],
        "not_eligible",
    )
    # again, by slug, with a new reason: the same row, updated
    again = await client.put(
        f"{API}/me/dismissed/opportunity/{opp['slug']}",
        headers=entrepreneur.headers,
        json={"reason": "already_applied", "note": "done in May"},
    )
    assert again.status_code == 200
    assert again.json()["reason"] == "already_applied"
    assert again.json()["created_at"] == body["created_at"]
    # no body at all is fine
    ev = await client.put(f"{API}/me/dismissed/event/{event['id']}", headers=entrepreneur.headers)
    assert ev.status_code == 200, ev.text
    assert ev.json()["reason"] is None

    listed = await client.get(f"{API}/me/dismissed", headers=entrepreneur.headers)
    assert [d["item_id"] for d in listed.json()["items"]] == [event["id"], opp["id"]]
    only = await client.get(f"{API}/me/dismissed?kind=opportunity", headers=entrepreneur.headers)
    assert [d["item_id"] for d in only.json()["items"]] == [opp["id"]]
    assert await dismissals.dismissed_ids(entrepreneur.user.id, "opportunity") == {
        PydanticObjectId(opp["id"])
    }

    gone = await client.delete(url, headers=entrepreneur.headers)
    assert gone.status_code == 204
    assert_error(await client.delete(url, headers=entrepreneur.headers), 404, "DISMISSAL_NOT_FOUND")
    assert await dismissals.dismissed_ids(entrepreneur.user.id, "opportunity") == set()


async def test_dismissals_are_private(client, partner, staff, entrepreneur, make_user):
    _, opp, _ = await _published(client, partner, staff)
    other = await make_user()
    url = f"{API}/me/dismissed/opportunity/{opp['id']}"
    await client.put(url, headers=entrepreneur.headers, json={"reason": "other"})
    seen = await client.get(f"{API}/me/dismissed", headers=other.headers)
    assert seen.json()["items"] == []
    # the other user cannot take back someone else's dismissal
    assert_error(await client.delete(url, headers=other.headers), 404, "DISMISSAL_NOT_FOUND")
    assert await Dismissal.find({"user_id": entrepreneur.user.id}).count() == 1
    assert_error(await client.get(f"{API}/me/dismissed"), 401, "NOT_AUTHENTICATED")


async def test_only_visible_items_can_be_dismissed(client, partner, entrepreneur):
    org = await make_org(client, partner)
    draft = await make_opportunity(client, partner, org["id"])
    for key in (draft["id"], draft["slug"], "0" * 24, "not-an-id", "x" * 300):
        response = await client.put(
            f"{API}/me/dismissed/opportunity/{key}", headers=entrepreneur.headers
        )
        assert_error(response, 404, "OPPORTUNITY_NOT_FOUND")
    # the wrong kind for the id is not found either
    response = await client.put(
        f"{API}/me/dismissed/event/{draft['id']}", headers=entrepreneur.headers
    )
    assert_error(response, 404, "EVENT_NOT_FOUND")
    assert await Dismissal.count() == 0


async def test_bad_input_is_a_422(client, partner, staff, entrepreneur):
    _, opp, _ = await _published(client, partner, staff)
    url = f"{API}/me/dismissed/opportunity/{opp['id']}"
    for body in ({"reason": "bored"}, {"note": "x" * 501}, {"unknown": 1}, {"reason": 3}):
        assert_error(
            await client.put(url, headers=entrepreneur.headers, json=body), 422, "VALIDATION_ERROR"
        )
    response = await client.put(
        f"{API}/me/dismissed/profile/{opp['id']}", headers=entrepreneur.headers
    )
    assert_error(response, 422, "VALIDATION_ERROR")
    listed = await client.get(f"{API}/me/dismissed?kind=profile", headers=entrepreneur.headers)
    assert_error(listed, 422, "VALIDATION_ERROR")
    assert await Dismissal.count() == 0


async def test_concurrent_first_dismissals_make_one_row(client, partner, staff, entrepreneur):
    _, opp, _ = await _published(client, partner, staff)
    url = f"{API}/me/dismissed/opportunity/{opp['id']}"
    answers = await asyncio.gather(
        *(
            client.put(url, headers=entrepreneur.headers, json={"reason": "not_relevant"})
            for _ in range(10)
        )
    )
    assert {a.status_code for a in answers} == {200}
    assert await Dismissal.count() == 1


async def test_taking_back_works_after_the_item_left_the_public_set(
    client, partner, staff, entrepreneur
):
    _, opp, _ = await _published(client, partner, staff)
    url = f"{API}/me/dismissed/opportunity/{opp['id']}"
    await client.put(url, headers=entrepreneur.headers)
    closed = await client.post(
        f"{API}/opportunities/{opp['id']}/cancel",
        headers=partner.headers,
        json={"reason": "funds gone"},
    )
    assert closed.status_code == 200, closed.text
    # cancelled: no longer dismissable, but the dismissal can still be taken back
    assert_error(await client.put(url, headers=entrepreneur.headers), 404, "OPPORTUNITY_NOT_FOUND")
    assert (await client.delete(url, headers=entrepreneur.headers)).status_code == 204
