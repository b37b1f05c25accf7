"""The embedded backend's `_id` lookup by key returns what mongomock's scan returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from bson import ObjectId
from mongomock.collection import Collection

from app.db.embedded import install_id_lookup

install_id_lookup()
SCAN = Collection._iter_documents.__wrapped__  # type: ignore[attr-defined]
OIDS = [ObjectId(f"64b7f0c2a1b2c3d4e5f6071{i}") for i in range(4)]  # fixed: test ids


@pytest.fixture
def collection() -> Any:
    coll: Any = mongomock.MongoClient(tz_aware=True).db.things
    coll.insert_many(
        [{"_id": oid, "n": i, "tags": ["a", str(i)]} for i, oid in enumerate(OIDS)]
        + [{"_id": "sid:1", "n": 10}, {"_id": "jti-2", "n": 11}, {"_id": 7, "n": 12}]
    )
    return coll


FILTERS: list[dict[str, Any]] = [
    {"_id": OIDS[1]},
    {"_id": OIDS[1], "n": 1},
    {"_id": OIDS[1], "n": 2},  # the key matches, the rest does not
    {"_id": ObjectId("64b7f0c2a1b2c3d4e5f607ff")},  # absent
    {"_id": "sid:1"},
    {"_id": "SID:1"},
    {"_id": {"$in": ["jti-x", "sid:1"]}},
    {"_id": {"$in": ["jti-2", "sid:1"]}},  # two hits: the scan's order
    {"_id": {"$in": []}},
    {"_id": {"$in": [OIDS[0], OIDS[0]]}},
    {"_id": 7},  # not a string or ObjectId: the scan
    {"_id": {"$ne": OIDS[0]}},
    {"_id": {"$in": [7, "sid:1"]}},
    {"_id": OIDS[2], "tags": "a"},
    {"n": {"$gte": 2}},
    {},
]


@pytest.mark.parametrize("query", FILTERS, ids=repr)
def test_lookup_equals_scan(collection: Any, query: dict[str, Any]) -> None:
    assert list(Collection._iter_documents(collection, query)) == list(SCAN(collection, query))
    assert list(collection.find(query)) == list(SCAN(collection, query))


def _outcome(run: Any) -> Any:
    try:
        return list(run())
    except mongomock.OperationFailure:
        return "raised"


@pytest.mark.parametrize(
    "query",
    [
        {"n": {"$nope": 1}, "_id": OIDS[0]},
        {"_id": OIDS[0], "n": {"$nope": 1}},
        {"_id": ObjectId("64b7f0c2a1b2c3d4e5f607fe"), "n": {"$nope": 1}},
        {"_id": {"$in": ["sid:1"]}, "n": {"$nope": 1}},
    ],
    ids=repr,
)
def test_malformed_filter_fails_alike(collection: Any, query: dict[str, Any]) -> None:
    ours = _outcome(lambda: Collection._iter_documents(collection, query))
    assert ours == _outcome(lambda: SCAN(collection, query))
    empty: Any = mongomock.MongoClient().db.empty
    assert _outcome(lambda: Collection._iter_documents(empty, query)) == _outcome(
        lambda: SCAN(empty, query)
    )


def test_expired_documents_are_not_found() -> None:
    coll: Any = mongomock.MongoClient(tz_aware=True).db.revoked
    coll.create_index("expires_at", expireAfterSeconds=0)
    past = datetime.now(UTC) - timedelta(minutes=1)
    coll.insert_one({"_id": "sid:old", "expires_at": past})
    assert coll.find_one({"_id": {"$in": ["jti", "sid:old"]}}) is None
