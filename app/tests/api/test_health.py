from httpx import AsyncClient

from app.db.session import Database


async def test_live(client: AsyncClient) -> None:
    response = await client.get("/api/v1/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": None}


async def test_ready_pings_database(client: AsyncClient) -> None:
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_ready_503_when_database_does_not_answer(app, client: AsyncClient) -> None:
    from motor.motor_asyncio import AsyncIOMotorClient

    # A real driver pointed at a port where nothing listens: the ping genuinely fails.
    dead: AsyncIOMotorClient = AsyncIOMotorClient(
        "mongodb://127.0.0.1:1", serverSelectionTimeoutMS=300
    )
    healthy = app.state.database
    app.state.database = Database(client=dead, db=dead["runwei"], embedded=False)
    try:
        response = await client.get("/api/v1/health/ready")
    finally:
        app.state.database = healthy
        dead.close()
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_docs_served_offline(client: AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert "/static-offline-docs/swagger-ui-bundle.js" in page.text
    asset = await client.get("/static-offline-docs/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert len(asset.content) > 100_000
    redoc = await client.get("/redoc")
    assert redoc.status_code == 200
    assert "fonts.googleapis" not in redoc.text
