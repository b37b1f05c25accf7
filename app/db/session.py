"""The one place that builds the MongoDB client: real Motor, or the embedded in-memory mock.

Moving to PyMongo's AsyncMongoClient (Beanie 2) later is an edit to this file only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from beanie import init_beanie
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo.errors import PyMongoError

from app.core.config import Settings
from app.models import DOCUMENT_MODELS

log = structlog.get_logger("app.db")


@dataclass(slots=True)
class Database:
    client: Any
    db: AsyncIOMotorDatabase[Any]
    embedded: bool

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except (PyMongoError, OSError):
            return False
        return True

    def close(self) -> None:
        self.client.close()


def make_client(settings: Settings) -> tuple[Any, bool]:
    if settings.mongodb_url is None:
        from mongomock_motor import AsyncMongoMockClient

        return AsyncMongoMockClient(tz_aware=True), True
    return (
        AsyncIOMotorClient(
            settings.mongodb_url.get_secret_value(),
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            uuidRepresentation="standard",
        ),
        False,
    )


async def connect(settings: Settings) -> Database:
    """Connect, register every document model and create every declared index."""
    client, embedded = make_client(settings)
    if embedded:
        log.warning(
            "embedded_database",
            message="MONGODB_URL is unset: using an in-memory MongoDB; data is NOT persisted",
        )
    db = (
        client[settings.mongodb_db]
        if embedded
        else client.get_default_database(settings.mongodb_db)
    )
    await init_beanie(database=db, document_models=DOCUMENT_MODELS)
    log.info("database_ready", embedded=embedded, models=len(DOCUMENT_MODELS))
    return Database(client=client, db=db, embedded=embedded)
