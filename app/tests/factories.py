"""Async factories. Tokens are minted with the real session code (no login round trip)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from app.core.config import Settings
from app.models.user import Role, User
from app.services import sessions
from app.services.users import create_user

DEFAULT_PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


@dataclass
class UserWithToken:
    user: User
    password: str
    access_token: str
    refresh_token: str

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def make_user(
    settings: Settings,
    *,
    role: str | Role = Role.entrepreneur,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    full_name: str | None = None,
) -> UserWithToken:
    n = next(_counter)
    role = Role(role)
    user = await create_user(
        settings,
        email or f"{role.value}{n}@example.org",
        password,
        full_name or f"{role.value.title()} {n}",
        role,
    )
    pair = await sessions.start(settings, user)
    return UserWithToken(user, password, pair.access_token, pair.refresh_token)


# --- catalogue helpers (through the HTTP API, so every rule applies) ---------------------------

API = "/api/v1"


async def make_org(client, owner: UserWithToken, name: str | None = None, **fields) -> dict:
    n = next(_counter)
    body = {"name": name or f"Org {n}", "type": "ngo", **fields}
    response = await client.post(f"{API}/organisations", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def add_member(
    client, owner: UserWithToken, org_id: str, user: UserWithToken, role: str = "editor"
) -> dict:
    """Invite `user` as `owner` and accept as `user` (the only way in); the organisation."""
    invited = await client.post(
        f"{API}/organisations/{org_id}/invitations",
        headers=owner.headers,
        json={"email": user.email, "role": role},
    )
    assert invited.status_code == 201, invited.text
    accepted = await client.post(
        f"{API}/me/invitations/{invited.json()['id']}/accept", headers=user.headers
    )
    assert accepted.status_code == 200, accepted.text
    response = await client.get(f"{API}/organisations/{org_id}", headers=owner.headers)
    return response.json()


def opportunity_body(org_id: str, **fields) -> dict:
    n = next(_counter)
    body = {
        "title": f"Opportunity {n}",
        "summary": "Funding for founders",
        "description": "<p>Details</p>",
        "type": "grant",
        "organisation_id": org_id,
        "amount_min": 100_000,
        "amount_max": 500_000,
        "currency": "USD",
        "deadline": "2099-01-01T12:00:00+00:00",
        "industries": ["fintech"],
        "tags": ["funding"],
        "sdgs": ["sdg-8"],
    }
    body.update(fields)
    return body


async def _create_item(
    client, kind: str, body: dict, author: UserWithToken, publish_as: UserWithToken | None
) -> dict:
    """POST a catalogue item as `author`; optionally publish it as `publish_as` (staff)."""
    response = await client.post(f"{API}/{kind}", headers=author.headers, json=body)
    assert response.status_code == 201, response.text
    item = response.json()
    if publish_as is not None:
        published = await client.post(
            f"{API}/{kind}/{item['id']}/publish", headers=publish_as.headers
        )
        assert published.status_code == 200, published.text
        item = published.json()
    return item


async def make_opportunity(
    client, author: UserWithToken, org_id: str, *, publish_as: UserWithToken | None = None, **fields
) -> dict:
    return await _create_item(
        client, "opportunities", opportunity_body(org_id, **fields), author, publish_as
    )


def event_body(org_id: str, **fields) -> dict:
    n = next(_counter)
    body = {
        "title": f"Event {n}",
        "description": "<p>Come along</p>",
        "type": "workshop",
        "organisation_id": org_id,
        "start_at": "2099-03-01T09:00:00+03:00",
        "end_at": "2099-03-01T12:00:00+03:00",
        "timezone": "Africa/Nairobi",
        "format": "hybrid",
        "venue": {
            "name": "Hub",
            "city": "Nairobi",
            "country": "KE",
            "lat": -1.2864,
            "lng": 36.8172,
        },
        "online_url": "https://meet.example.org/secret-room",
        "capacity": 10,
    }
    body.update(fields)
    return body


async def make_event(
    client, author: UserWithToken, org_id: str, *, publish_as: UserWithToken | None = None, **fields
) -> dict:
    return await _create_item(client, "events", event_body(org_id, **fields), author, publish_as)
