"""Text similarity through Azure OpenAI embeddings, against a local stand-in of its REST API
(`POST {endpoint}/openai/deployments/{deployment}/embeddings?api-version=…`) started by the
test: the API key or a managed identity's token, `dimensions`, batching, retries on 429
(honouring `retry-after-ms`), each text embedded once, and a clean 503 when it stays down."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from app.models.recommendation import TextEmbedding
from app.tests.api.recommendation_helpers import (
    ids,
    published,
    put_profile,
    recommended,
    settle,
)
from app.tests.errors import assert_error
from app.tests.factories import API, make_org
from app.utils.text import words

DIMENSIONS = 48


def fake_embedding(text: str, dimensions: int) -> list[float]:
    """Deterministic: each word adds ±1 to a bucket picked by its hash (so texts that share
    words are similar, as with a real model's vectors)."""
    vector = [0.0] * dimensions
    for word in words(text):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % dimensions] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


@dataclass
class StandIn:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    throttle: int = 0  # answer this many requests with 429 first
    down: bool = False
    token: str | None = None  # expect this bearer token instead of the API key

    def inputs(self) -> list[str]:
        return [text for r in self.requests if r["status"] == 200 for text in r["input"]]


@pytest.fixture
async def azure_openai():
    stand_in = StandIn(url="")

    async def embeddings(request: web.Request) -> web.Response:
        body = await request.json()
        record = {
            "deployment": request.match_info["deployment"],
            "api_version": request.query.get("api-version"),
            "api_key": request.headers.get("api-key"),
            "authorization": request.headers.get("Authorization"),
            "input": body["input"],
            "dimensions": body.get("dimensions"),
        }
        stand_in.requests.append(record)
        expected = (
            record["authorization"] == f"Bearer {stand_in.token}"
            if stand_in.token
            else record["api_key"] == "test-key"
        )
        if not expected:
            record["status"] = 401
            return web.json_response({"error": {"code": "401"}}, status=401)
        if stand_in.down:
            record["status"] = 500
            return web.json_response({"error": {"code": "InternalServerError"}}, status=500)
        if stand_in.throttle:
            stand_in.throttle -= 1
            record["status"] = 429
            return web.json_response(
                {"error": {"code": "429"}}, status=429, headers={"retry-after-ms": "20"}
            )
        record["status"] = 200
        size = body.get("dimensions") or 1536
        data = [
            {"object": "embedding", "index": n, "embedding": fake_embedding(text, size)}
            for n, text in enumerate(body["input"])
        ]
        data.reverse()  # the service may answer in any order: `index` says which is which
        return web.json_response({"object": "list", "data": data, "model": "stand-in"})

    application = web.Application()
    application.router.add_post("/openai/deployments/{deployment}/embeddings", embeddings)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    stand_in.url = f"http://127.0.0.1:{port}"
    yield stand_in
    await runner.cleanup()


@pytest.fixture
def settings_overrides(azure_openai: StandIn) -> dict[str, Any]:
    return {
        "recommendation_text_provider": "azure_openai",
        "azure_openai_endpoint": azure_openai.url + "/",
        "azure_openai_embedding_deployment": "embed-small",
        "azure_openai_api_key": "test-key",
        "recommendation_embedding_dimensions": DIMENSIONS,
    }


async def test_ranked_by_embeddings_each_text_embedded_once(
    app, client, partner, staff, entrepreneur, azure_openai: StandIn
) -> None:
    org = await make_org(client, partner)
    common = {"industries": [], "tags": [], "sdgs": [], "summary": "", "description": ""}
    bees = await published(client, partner, staff, org, title="Beekeeping honey grant", **common)
    cars = await published(
        client,
        partner,
        staff,
        await make_org(client, partner),
        title="Electric car workshop",
        **common,
    )
    await put_profile(client, entrepreneur, bio="honey from beekeeping cooperatives")
    await settle(app)  # the worker ranked (and embedded) it
    page = await recommended(client, entrepreneur)
    assert ids(page)[0] == bees["id"]
    first = azure_openai.requests[0]
    assert first["deployment"] == "embed-small"
    assert first["api_version"] == "2024-10-21"
    assert first["api_key"] == "test-key"
    assert first["dimensions"] == DIMENSIONS
    stored = await TextEmbedding.find({"owner": "opportunity"}).to_list()
    assert {str(e.owner_id) for e in stored} == {bees["id"], cars["id"]}
    assert all(len(e.vector) == DIMENSIONS for e in stored)
    embedded = len(azure_openai.inputs())

    # the profile changes: only its text is embedded again
    await put_profile(client, entrepreneur, bio="electric car repair")
    await settle(app)
    page = await recommended(client, entrepreneur)
    assert ids(page)[0] == cars["id"]
    assert len(azure_openai.inputs()) == embedded + 1
    assert "electric car repair" in azure_openai.inputs()[-1]

    # an item changes: only that item
    before = len(azure_openai.inputs())
    await client.patch(
        f"{API}/opportunities/{bees['id']}",
        headers=staff.headers,
        json={"title": "Electric car and beekeeping grant"},
    )
    await settle(app)
    await recommended(client, entrepreneur, include_ineligible="true")
    new = azure_openai.inputs()[before:]
    assert len(new) == 1
    assert "Electric car and beekeeping grant" in new[0]


async def test_throttling_is_retried_and_an_outage_is_a_clean_503(
    client, partner, staff, entrepreneur, azure_openai: StandIn
) -> None:
    org = await make_org(client, partner)
    await published(client, partner, staff, org, title="Beekeeping honey grant")
    azure_openai.throttle = 2
    await put_profile(client, entrepreneur, bio="honey")
    page = await recommended(client, entrepreneur)
    assert len(page["items"]) == 1
    assert [r["status"] for r in azure_openai.requests[:3]] == [429, 429, 200]

    azure_openai.down = True
    await put_profile(client, entrepreneur, bio="something new to embed")
    response = await client.get(
        f"{API}/me/recommendations/opportunities", headers=entrepreneur.headers
    )
    body = assert_error(response, 503, "EMBEDDINGS_UNAVAILABLE")
    assert "Traceback" not in response.text
    assert response.headers["Retry-After"]
    assert body["error"]["message"]


class FakeCredential:
    """Stands in for azure.identity.aio.DefaultAzureCredential (a managed identity)."""

    scopes: list[str] = []

    async def get_token(self, scope: str) -> Any:
        FakeCredential.scopes.append(scope)
        return type("Token", (), {"token": "identity-token", "expires_on": 4102444800})()

    async def close(self) -> None:
        return None


@pytest.fixture
def managed_identity(monkeypatch, settings_overrides, azure_openai: StandIn) -> None:
    import azure.identity.aio

    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", FakeCredential)
    settings_overrides["azure_openai_api_key"] = None
    azure_openai.token = "identity-token"


@pytest.mark.usefixtures("managed_identity")
async def test_a_managed_identity_token_instead_of_a_key(
    client, partner, staff, entrepreneur, azure_openai: StandIn
) -> None:
    org = await make_org(client, partner)
    await published(client, partner, staff, org, title="Beekeeping honey grant")
    await put_profile(client, entrepreneur, bio="honey")
    assert len((await recommended(client, entrepreneur))["items"]) == 1
    assert azure_openai.requests[0]["authorization"] == "Bearer identity-token"
    assert azure_openai.requests[0]["api_key"] is None
    assert FakeCredential.scopes[-1] == "https://cognitiveservices.azure.com/.default"
