"""The one place that builds the MongoDB client: real Motor, or the embedded in-memory mock.

Moving to PyMongo's AsyncMongoClient (Beanie 2) later is an edit to this file only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
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

        from app.db.embedded import install_id_lookup

        install_id_lookup()
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


async def scan(
    collection: Any,
    query: dict[str, Any],
    fields: tuple[str, ...],
) -> AsyncIterator[dict[str, Any]]:
    """Every document of `collection` matching `query`, with `_id` and `fields` only — for
    the few readers of a whole collection (the saved-search percolator's index).

    Real MongoDB: a plain `find`. The embedded backend's cursor copies its remaining result
    list on every document it yields, so reading N documents costs N² (40,000 took 16 s,
    100,000 several minutes); there the store is read once instead, through mongomock's own
    filter: linear, and the same documents."""
    inner = getattr(collection, "_AsyncMongoMockCollection__collection", None)
    if inner is None:
        async for doc in collection.find(query, dict.fromkeys(fields, 1)):
            yield doc
        return
    from mongomock.filtering import filter_applies

    for document in list(inner._store.documents):
        if query and not filter_applies(query, document):  # type: ignore[no-untyped-call]
            continue
        # Top-level fields as stored (the caller must not change nested values: they are
        # the store's own), top-level datetimes made aware like the backend's reads.
        yield {k: _aware(document[k]) for k in ("_id", *fields) if k in document}


def _aware(value: Any) -> Any:
    if type(value) is datetime and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
