"""Walk EVERY GET route in the app's route table × item states × callers, and prove that
non-public content never reaches a caller who does not manage the item.

Non-public items (draft, pending review, rejected, closed, cancelled, archived — and the
pending revision of a published item) carry a unique marker in their text fields, links,
venue, status reason and attached file name. For anonymous callers, an entrepreneur and a
member of another organisation, no response body or header may contain a marker, the id
of a never-published item, or (in facets) a value only non-public items use; totals count
what the page really shows. The owning organisation's member and staff must see them
(which proves the markers are really there). A GET route this file does not classify fails
the test: a new route has to be thought about, not slip through.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from httpx import AsyncClient, Response
from PIL import Image

from app.models.catalogue import ItemStatus
from app.models.reference import ReferenceKind
from app.tests.factories import make_event, make_opportunity, make_org

API = "/api/v1"
UNKNOWN_ID = "64b7f0c2a1b2c3d4e5f60718"
KINDS = {"opportunities": "opp", "events": "evt"}
HIDDEN_STATES = ("draft", "pending_review", "rejected", "closed", "cancelled", "archived")
NEVER_PUBLISHED = ("draft", "pending_review", "rejected")
# Reference values only the non-public items use: they must not show up in facets.
HIDDEN_FACET_VALUES = ("sdg-16", "digital-skills")

# Every GET route (and mount) in the app, classified. Categories:
#   catalogue  item reads, lists, .ics, attendees, revisions — the subject of this test
#   me         the caller's own lists (saves, applications, RSVPs)
#   public     other domains readable without managing anything (profiles, orgs, partners…)
#   account    the caller's own account and profile
#   admin      /admin (roles checked per module)
#   media      /media — a file of a hidden item is 404 to whoever does not manage the item
#   infra      health, docs, the spec
ROUTES: dict[str, str] = {
    "/api/v1/openapi.json": "infra",
    "/docs": "infra",
    "/docs/oauth2-redirect": "infra",
    "/redoc": "infra",
    "/api/v1/health/live": "infra",
    "/api/v1/health/ready": "infra",
    "/api/v1/users/me": "account",
    "/api/v1/profiles/me": "account",
    "/api/v1/me/opportunities": "me",
    "/api/v1/me/events": "me",
    "/api/v1/me/invitations": "account",
    "/api/v1/me/dismissed": "account",  # ids and reasons only, no item content
    "/api/v1/me/notification-preferences": "account",
    "/api/v1/notifications": "account",  # the caller's own (notify checks visibility)
    "/api/v1/notifications/unread-count": "account",
    "/api/v1/notifications/stream": "account",
    "/api/v1/me/saved-searches": "account",
    "/api/v1/me/saved-searches/{search_id}": "account",
    "/api/v1/me/saved-searches/{search_id}/matches": "account",  # published items only
    "/api/v1/me/recommendations/opportunities": "catalogue",
    "/api/v1/me/recommendations/events": "catalogue",
    "/api/v1/media/{media_id}": "media",
    "/api/v1/media/{media_id}/content": "media",
    "/api/v1/profiles": "public",
    "/api/v1/profiles/{profile_id}": "public",
    "/api/v1/organisations": "public",
    "/api/v1/organisations/{organisation_id}": "public",
    "/api/v1/organisations/{organisation_id}/invitations": "public",
    "/api/v1/organisations/{organisation_id}/invitations/{invitation_id}": "public",
    "/api/v1/partners": "public",
    "/api/v1/partners/{partner_id}": "public",
    "/api/v1/reference/{kind}": "public",
    "/api/v1/opportunities": "catalogue",
    "/api/v1/opportunities/{opportunity_id}": "catalogue",
    "/api/v1/opportunities/{opportunity_id}/revision": "catalogue",
    "/api/v1/opportunities/{opportunity_id}/match": "catalogue",
    "/api/v1/opportunities/{opportunity_id}/similar": "catalogue",
    "/api/v1/opportunities/{opportunity_id}/audience": "catalogue",
    "/api/v1/events": "catalogue",
    "/api/v1/events/{event_id}": "catalogue",
    "/api/v1/events/{event_id}.ics": "catalogue",
    "/api/v1/events/{event_id}/attendees": "catalogue",
    "/api/v1/events/{event_id}/attendees.csv": "catalogue",
    "/api/v1/events/{event_id}/revision": "catalogue",
    "/api/v1/events/{event_id}/similar": "catalogue",
    "/api/v1/admin/users": "admin",
    "/api/v1/admin/users/{user_id}": "admin",
    "/api/v1/admin/audit": "admin",
    "/api/v1/admin/moderation": "admin",
    "/api/v1/admin/reference/{kind}": "admin",
    "/api/v1/admin/partners": "admin",
    "/api/v1/admin/partners/{partner_id}": "admin",
    "/api/v1/admin/announcements/{announcement_id}": "admin",
    "/api/v1/admin/email-templates/{name}/preview": "admin",  # sample values only
    "/api/v1/unsubscribe": "public",  # a signed token's scope, no item content
    "/api/v1/admin/sources": "admin",
    "/api/v1/admin/sources/{source_id}": "admin",
    "/api/v1/admin/sources/{source_id}/runs": "admin",
    "/api/v1/admin/sources/{source_id}/runs/{run_id}": "admin",
    "/api/v1/admin/duplicates": "admin",
    "/api/v1/admin/exports/opportunities.csv": "admin",
    "/api/v1/admin/exports/opportunities.jsonl": "admin",
    "/api/v1/admin/exports/events.csv": "admin",
    "/api/v1/admin/exports/events.jsonl": "admin",
}
MOUNTS = {"/static-offline-docs": "infra"}  # Swagger UI / ReDoc assets

CALLERS = ("anonymous", "entrepreneur", "own_member", "other_member", "staff")
OWNING_ORG = frozenset({"own_member", "staff"})  # who manages the owning org's items
OTHER_ORG = frozenset({"other_member", "staff"})


def get_routes(app: FastAPI) -> tuple[list[str], list[str]]:
    """The GET routes and the mounts of the app's (flattened) route table."""
    gets: list[str] = []
    mounts: list[str] = []
    for route in iter_route_contexts(app.routes):
        path, methods = str(route.path), route.methods
        if methods is None:
            mounts.append(path)
        elif "GET" in methods:
            gets.append(path)
    return gets, mounts


def marker(state: str, kind: str) -> str:
    return f"qzv{state.replace('_', '')}{KINDS[kind]}"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), "purple").save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Secret:
    """Something only `managers` may see: a marker string, or a never-published item's id."""

    text: str
    managers: frozenset[str]


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    items: dict[str, dict[str, dict[str, Any]]]  # kind -> state -> item (owning org)
    secrets: list[Secret] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)  # the owning org's markers
    media: dict[str, str] = field(default_factory=dict)  # media id -> marker of its owner
    values: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> values

    def hidden_from(self, caller: str) -> list[str]:
        return [s.text for s in self.secrets if caller not in s.managers]


def _hidden_fields(kind: str, m: str) -> dict[str, Any]:
    common = {
        "title": f"Hidden {m} title",
        "description": f"<p>About {m}</p>",
        "sdgs": ["sdg-16"],
        "tags": ["digital-skills"],
    }
    if kind == "opportunities":
        return {
            **common,
            "summary": f"{m} summary",
            "application_url": f"https://apply.example.org/{m}",
            "eligibility": {"criteria": f"Only {m}"},
        }
    return {
        **common,
        "online_url": f"https://meet.example.org/{m}",
        "venue": {"name": f"Hall {m}", "city": "Nairobi", "country": "KE"},
    }


async def build_world(client: AsyncClient, make_user, staff) -> World:
    own = await make_user(role="partner")
    other = await make_user(role="partner")
    entrepreneur = await make_user(role="entrepreneur")
    org = await make_org(client, own, name="Owning Org")
    other_org = await make_org(client, other, name="Other Org")
    await client.put(
        f"{API}/profiles/me",
        headers=entrepreneur.headers,
        json={"display_name": "Walker", "business_name": "Walks", "visibility": "public"},
    )
    world = World(
        headers={
            "anonymous": {},
            "entrepreneur": entrepreneur.headers,
            "own_member": own.headers,
            "other_member": other.headers,
            "staff": staff.headers,
        },
        items={},
    )

    async def post(path: str, **kwargs: Any) -> Response:
        response = await client.post(f"{API}/{path}", **kwargs)
        assert response.status_code < 300, (path, response.text)
        return response

    for kind in KINDS:
        maker = make_opportunity if kind == "opportunities" else make_event
        world.items[kind] = {"published": await maker(client, own, org["id"], publish_as=staff)}
        for state in HIDDEN_STATES:
            m = marker(state, kind)
            world.markers.append(m)
            world.secrets.append(Secret(m, OWNING_ORG))
            published = state in ("closed", "cancelled", "archived")
            item = await maker(
                client, own, org["id"], publish_as=staff if published else None,
                **_hidden_fields(kind, m),
            )  # fmt: skip
            url = f"{kind}/{item['id']}"
            if published:  # the entrepreneur took an interest while it was public
                if kind == "opportunities":
                    await client.put(f"{API}/{url}/save", headers=entrepreneur.headers)
                    await client.put(
                        f"{API}/{url}/application",
                        headers=entrepreneur.headers,
                        json={"status": "applied"},
                    )
                else:
                    await client.put(f"{API}/{url}/rsvp", headers=entrepreneur.headers, json={})
            if state in ("pending_review", "rejected"):
                await post(f"{url}/submit", headers=own.headers)
            if state == "rejected":
                await post(f"{url}/reject", headers=staff.headers, json={"reason": f"Fix {m}"})
            if state == "closed":
                await post(f"{url}/close", headers=own.headers)
            if state == "cancelled":
                await post(f"{url}/cancel", headers=own.headers, json={"reason": f"Off {m}"})
            if state == "archived":
                await client.delete(f"{API}/{url}", headers=own.headers)
            if state in ("draft", "archived"):
                cover = await client.put(
                    f"{API}/{url}/cover",
                    headers=own.headers,
                    files={"file": (f"{m}.png", png(), "image/png")},
                )
                assert cover.status_code == 200, cover.text
                world.media[cover.json()["id"]] = m
            if state in NEVER_PUBLISHED:
                world.secrets.append(Secret(item["id"], OWNING_ORG))
            world.items[kind][state] = item
        # Published, with a pending revision carrying the marker (and going attendees).
        m = marker("revision", kind)
        world.markers.append(m)
        world.secrets.append(Secret(m, OWNING_ORG))
        item = await maker(client, own, org["id"], publish_as=staff)
        if kind == "events":
            await client.put(
                f"{API}/events/{item['id']}/rsvp", headers=entrepreneur.headers, json={}
            )
        revision = {k: v for k, v in _hidden_fields(kind, m).items() if k not in ("sdgs", "tags")}
        proposed = await client.patch(
            f"{API}/{kind}/{item['id']}", headers=own.headers, json=revision
        )
        assert proposed.status_code == 202, proposed.text
        world.items[kind]["revision"] = item

    # Another organisation's unpublished item: hidden from the owning org's member too.
    foreign = await make_opportunity(client, other, other_org["id"], title="Foreign qzvforeign")
    world.secrets += [Secret("qzvforeign", OTHER_ORG), Secret(foreign["id"], OTHER_ORG)]

    opportunity_ids = [i["id"] for i in world.items["opportunities"].values()]
    event_ids = [i["id"] for i in world.items["events"].values()]
    profile = (await client.get(f"{API}/profiles/me", headers=entrepreneur.headers)).json()
    # A saved search matching the hidden items' words: its matches list public items only.
    search = await client.post(
        f"{API}/me/saved-searches",
        headers=entrepreneur.headers,
        json={"name": "hidden", "kind": "opportunity", "query": {"q": "hidden"}},
    )
    assert search.status_code == 201, search.text
    world.values = {
        "opportunity_id": [*opportunity_ids, world.items["opportunities"]["draft"]["slug"]],
        "event_id": [*event_ids, world.items["events"]["draft"]["slug"]],
        "organisation_id": [org["id"], org["slug"], other_org["id"]],
        "profile_id": [profile["id"], UNKNOWN_ID],
        "partner_id": [UNKNOWN_ID],
        "invitation_id": [UNKNOWN_ID],
        "user_id": [own.id, UNKNOWN_ID],
        "kind": [k.value for k in ReferenceKind],
        "media_id": list(world.media),
        "search_id": [search.json()["id"], UNKNOWN_ID],
        "announcement_id": [UNKNOWN_ID],
        "name": ["digest"],
        "source_id": [UNKNOWN_ID],
        "run_id": [UNKNOWN_ID],
    }
    return world


def list_variants(kind: str, world: World) -> list[dict[str, Any]]:
    facets = (
        "type,industries,country,sdgs,tags,stages,target_communities"
        if kind == "opportunities"
        else "type,industries,country,sdgs,tags,format,target_communities"
    )
    everything = {"limit": 100, "include_total": "true", "facets": facets}
    variants: list[dict[str, Any]] = [
        {},
        everything,
        {**everything, "updated_since": "2000-01-01T00:00:00Z"},
        {**everything, "sort": "newest"},
        {"organisation": world.items[kind]["published"]["organisation"]["slug"], **everything},
        {"sdgs": "sdg-16", **everything},
        {"tags": "digital-skills", **everything},
        {"q": "hidden", **everything},
    ]
    variants += [{"q": m, **everything} for m in world.markers]
    variants += [
        {"q": m, "updated_since": "2000-01-01T00:00:00Z", **everything} for m in world.markers[:2]
    ]
    variants += [{"status": s.value, **everything} for s in ItemStatus]
    if kind == "events":
        variants += [
            {"near_lat": -1.2864, "near_lng": 36.8172, "radius_km": 50, **everything},
            {"city": "Nairobi", **everything},
        ]
    else:
        variants += [{"open_now": "true", **everything}, {"featured": "false", **everything}]
    return variants


QUERY_VARIANTS: dict[str, Callable[[World], list[dict[str, Any]]]] = {
    "/api/v1/me/opportunities": lambda w: [
        {},
        {"status": "saved"},
        {"status": "applied"},
        {"include_total": "true"},
    ],
    "/api/v1/me/events": lambda w: [{}, {"include_total": "true"}],
    "/api/v1/me/recommendations/opportunities": lambda w: [
        {"limit": 100, "include_total": "true", "include_ineligible": "true"}
    ],
    "/api/v1/me/recommendations/events": lambda w: [
        {"limit": 100, "include_total": "true", "include_ineligible": "true"}
    ],
    "/api/v1/opportunities/{opportunity_id}/similar": lambda w: [{"limit": 100}],
    "/api/v1/events/{event_id}/similar": lambda w: [{"limit": 100}],
    "/api/v1/opportunities": lambda w: list_variants("opportunities", w),
    "/api/v1/events": lambda w: list_variants("events", w),
    "/api/v1/admin/moderation": lambda w: [{}, {"moderation": "revision"}, {"moderation": "link"}],
    "/api/v1/admin/exports/opportunities.csv": lambda w: [{}, {"status": "draft"}],
    "/api/v1/admin/exports/events.jsonl": lambda w: [{}, {"status": "draft"}],
    "/api/v1/organisations": lambda w: [{}, {"q": "owning"}],
    "/api/v1/profiles": lambda w: [{}],
}


def concrete_urls(path: str, world: World) -> list[str]:
    paths = [path]
    for param in re.findall(r"\{([^}]+)\}", path):
        values = world.values.get(param)
        assert values, f"no values for path parameter {param!r} ({path})"
        paths = [p.replace("{" + param + "}", v) for p in paths for v in values]
    variants = QUERY_VARIANTS.get(path, lambda w: [{}])(world)
    return [p + (f"?{urlencode(v)}" if v else "") for p in paths for v in variants]


def _text(response: Response) -> str:
    body = response.content.decode("utf-8", errors="replace")
    body = body.replace("\r\n ", "").replace("\n ", "")  # unfold iCalendar lines
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return f"{headers}\n{body}".lower()


def violations(caller: str, url: str, response: Response, world: World) -> list[str]:
    """What this caller, who does not manage the items behind them, must never get."""
    text = _text(response)
    found = [f"secret {secret}" for secret in world.hidden_from(caller) if secret in text]
    if not response.headers.get("content-type", "").startswith("application/json"):
        return found
    body = response.json()
    if not isinstance(body, dict):
        return found
    if isinstance(body.get("facets"), dict) and caller not in OWNING_ORG:
        values = {f["value"] for counts in body["facets"].values() for f in counts}
        found += [f"facet value {v}" for v in HIDDEN_FACET_VALUES if v in values]
    total = body.get("total")
    complete = body.get("next_cursor") is None and "cursor=" not in url
    if total is not None and complete and total != len(body["items"]):
        found.append(f"total {total} but {len(body['items'])} items")
    return found


async def test_no_get_route_shows_non_public_content(
    app: FastAPI, client: AsyncClient, make_user, staff
) -> None:
    gets, mounts = get_routes(app)
    unclassified = sorted(
        {p for p in gets if p not in ROUTES} | {m for m in mounts if m not in MOUNTS}
    )
    assert not unclassified, f"classify these GET routes in {__name__}.ROUTES: {unclassified}"
    assert set(ROUTES) <= set(gets), f"stale entries: {sorted(set(ROUTES) - set(gets))}"

    world = await build_world(client, make_user, staff)
    problems: list[str] = []
    seen: dict[str, dict[str, str]] = {caller: {} for caller in CALLERS}
    requests = 0
    for path in sorted(set(gets)):
        category = ROUTES[path]
        for url in concrete_urls(path, world):
            for caller in CALLERS:
                response = await client.get(url, headers=world.headers[caller])
                requests += 1
                if response.status_code >= 500:
                    problems.append(f"{caller} GET {url}: {response.status_code}")
                    continue
                seen[caller][url] = _text(response)
                hidden_file_served = response.status_code != 404 and caller not in OWNING_ORG
                if category == "media" and hidden_file_served:
                    problems.append(f"{caller} GET {url}: media of a hidden item served")
                found = violations(caller, url, response, world)
                problems += [f"{caller} GET {url}: {v}" for v in found]
    assert not problems, f"{len(problems)} leaks:\n" + "\n".join(problems[:60])
    assert requests > 500

    # The secrets are really there: whoever manages an item sees its markers (items,
    # revisions, reasons) — which is what makes their absence above meaningful.
    for caller in CALLERS:
        everything = "\n".join(seen[caller].values())
        visible = [s.text for s in world.secrets if caller in s.managers]
        missing = [text for text in visible if text not in everything]
        assert not missing, (caller, missing)
    own_view = seen["own_member"]
    draft = world.items["opportunities"]["draft"]
    assert marker("draft", "opportunities") in own_view[f"{API}/opportunities/{draft['id']}"]
    revised = world.items["events"]["revision"]
    assert marker("revision", "events") in own_view[f"{API}/events/{revised['id']}/revision"]
