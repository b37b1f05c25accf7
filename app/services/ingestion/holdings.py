"""What users hold on a merged item, re-keyed to the item it was merged into
(`services/ingestion/merge.py`, after saves/applications or RSVPs moved): dismissals,
saved-search matches, reminders and the subject of notifications.

Each row moves with one conditional write (`item_id` still the merged one), so a retried
merge moves only what is left. Where a user already holds the same on the kept item (a
unique key: one dismissal per item, one match per search and item, one reminder per
offset), theirs on the kept item stays and the merged one's row goes.
"""

from __future__ import annotations

from typing import Any

from beanie import Document, PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.models.dismissal import Dismissal
from app.models.ingestion import TargetKind
from app.models.notification import Notification
from app.models.reminder import Reminder
from app.models.saved_search import SavedSearchMatch
from app.services import reminders


async def move(kind: TargetKind, merged: PydanticObjectId, keeper: PydanticObjectId) -> None:
    await _rekey(Dismissal, {"kind": kind}, merged, keeper)
    await _rekey(SavedSearchMatch, {"item_kind": kind}, merged, keeper)
    # a reminder keeps what it was sent for (the kept item's reminder is not sent twice for
    # the same date); one being sent right now stays, and goes with the sync below
    await _rekey(
        Reminder, {"kind": reminders.KIND_OF_ITEM[kind], "claim_token": None}, merged, keeper
    )
    await reminders.resync_item(kind, str(keeper))  # dates of the kept item
    await reminders.resync_item(kind, str(merged))  # nobody follows it now: none left
    await Notification.get_motor_collection().update_many(
        {"subject.kind": kind, "subject.id": str(merged)},
        {"$set": {"subject.id": str(keeper)}},
    )


async def _rekey(
    model: type[Document],
    where: dict[str, Any],
    merged: PydanticObjectId,
    keeper: PydanticObjectId,
) -> None:
    collection = model.get_motor_collection()
    async for row in collection.find({**where, "item_id": merged}, {"_id": 1}):
        mine = {"_id": row["_id"], "item_id": merged}
        try:
            await collection.update_one(mine, {"$set": {"item_id": keeper}})
        except DuplicateKeyError:  # the user holds the same on the kept item
            await collection.delete_one(mine)
