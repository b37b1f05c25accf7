"""Backup and restore round-trip the embedded database: documents (with their types) and
indexes, into a fresh database; a restore over data is refused without --drop."""

from __future__ import annotations

from typing import Any

import pytest
from bson import json_util
from mongomock_motor import AsyncMongoMockClient

from app.db.backup import RestoreRefused, backup, restore
from app.models.opportunity import Opportunity
from app.tests.factories import make_event, make_opportunity, make_org

API = "/api/v1"


async def _snapshot(db) -> dict:
    out = {}
    for name in sorted(await db.list_collection_names()):
        docs = [d async for d in db[name].find({}).sort("_id", 1)]
        indexes = await db[name].index_information()
        out[name] = (json_util.dumps(docs), json_util.dumps(indexes, sort_keys=True))
    return out


async def test_backup_restore_round_trip(client, staff, partner, entrepreneur, tmp_path) -> None:
    org = await make_org(client, partner)
    opportunity = await make_opportunity(client, partner, org["id"], publish_as=staff)
    event = await make_event(client, partner, org["id"], publish_as=staff)
    await client.put(
        f"{API}/events/{event['id']}/rsvp", headers=entrepreneur.headers, json={"status": "going"}
    )
    await client.put(f"{API}/opportunities/{opportunity['id']}/save", headers=entrepreneur.headers)

    db = Opportunity.get_motor_collection().database
    archive = tmp_path / "backup.zip"
    counts = await backup(db, archive)
    assert counts["opportunities"] == 1
    assert counts["rsvps"] == 1
    assert counts["users"] == 3
    assert archive.stat().st_size > 0

    fresh: Any = AsyncMongoMockClient(tz_aware=True)["restored"]
    restored = await restore(fresh, archive)
    assert restored == counts
    before, after = await _snapshot(db), await _snapshot(fresh)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name] == after[name], name
    one: Any = await fresh["opportunities"].find_one({})
    assert one["deadline"].tzinfo is not None
    assert type(one["_id"]).__name__ == "ObjectId"
    assert "slug_unique" in await fresh["opportunities"].index_information()

    with pytest.raises(RestoreRefused, match="not empty"):
        await restore(fresh, archive)
    assert await restore(fresh, archive, drop=True) == counts
