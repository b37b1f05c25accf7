"""Upsert by external id: an entry becomes an item once, and a re-run changes it only when
the source changed it.

- new entry: its key (`ingest_entries`, unique on origin + external id) is inserted first,
  pointing at an item id chosen up front, then the item is created as `pending_review`
  with its provenance — through `catalogue.edit`, like a create request. A crash between
  the two is repaired by the next run (the key exists, the item does not: create it).
- same content (hash of the mapped fields): a no-op.
- changed content: the fields the source changed since it was last seen go through
  `catalogue.edit.update` as a member's edit would — live while the item awaits review,
  a pending revision once staff approved it (never over what staff approved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.core.exceptions import AppError, ValidationFailed
from app.models.catalogue import CatalogueItem, ItemStatus
from app.models.ingestion import EntryOutcome, IngestedEntry, TargetKind
from app.models.organisation import Organisation
from app.models.provenance import Provenance
from app.services.catalogue import CatalogueKind, Viewer
from app.services.catalogue import edit as catalogue_edit
from app.services.catalogue.access import fetch
from app.services.catalogue.revisions import plain, same
from app.services.ingestion.mapping import Refused, refusal
from app.services.ingestion.rows import content_hash
from app.services.reference import ActiveSlugs
from app.tasks import effects

NEVER_CHANGED = frozenset({"organisation_id", "slug"})


@dataclass
class Target:
    """Where one run or import writes: the kind, who acts, the upsert key's namespace."""

    kind: CatalogueKind[Any]
    target: TargetKind
    who: Viewer
    origin: str
    refs: ActiveSlugs
    fetched_at: datetime
    source_id: PydanticObjectId | None = None
    run_id: PydanticObjectId | None = None
    organisations: dict[str, Organisation] = field(default_factory=dict)

    async def organisation(self, organisation_id: str) -> Organisation | None:
        if organisation_id not in self.organisations:
            found = (
                await Organisation.get(PydanticObjectId(organisation_id))
                if PydanticObjectId.is_valid(organisation_id)
                else None
            )
            if found is None or found.archived:
                return None
            self.organisations[organisation_id] = found
        return self.organisations[organisation_id]


@dataclass
class Upserted:
    outcome: EntryOutcome
    item: CatalogueItem | None = None
    reason: str | None = None


async def upsert(to: Target, external_id: str, data: dict[str, Any], url: str | None) -> Upserted:
    """`data` is a validated create body (mapping.validate_body)."""
    digest = content_hash(data)
    entry = await IngestedEntry.find_one({"origin": to.origin, "external_id": external_id})
    if entry is None:
        entry = IngestedEntry(
            origin=to.origin,
            external_id=external_id,
            target=to.target,
            item_id=PydanticObjectId(),
            content_hash=digest,
            fields=plain(data),
            last_run_id=to.run_id,
        )
        if not await effects.insert_once(entry):  # a concurrent run took the key first
            entry = await IngestedEntry.find_one({"origin": to.origin, "external_id": external_id})
            assert entry is not None  # noqa: S101
            return await _existing(to, entry, data, digest, url)
        return await _create(to, entry, data, digest, url)
    return await _existing(to, entry, data, digest, url)


def provenance(to: Target, external_id: str, url: str | None, digest: str) -> Provenance:
    return Provenance(
        origin=to.origin,
        source_id=to.source_id,
        external_id=external_id,
        url=url,
        fetched_at=to.fetched_at,
        content_hash=digest,
    )


async def _create(
    to: Target, entry: IngestedEntry, data: dict[str, Any], digest: str, url: str | None
) -> Upserted:
    organisation = await to.organisation(str(data.get("organisation_id")))
    try:
        prepared = await catalogue_edit.prepare(
            to.kind, to.who, data, refs=to.refs, organisation=organisation
        )
        item = await catalogue_edit.create(
            to.kind,
            to.who,
            prepared,
            prepared=True,
            system={
                "id": entry.item_id,
                "status": ItemStatus.pending_review,
                "provenance": provenance(to, entry.external_id, url, digest),
            },
        )
    except ValidationFailed as exc:
        await entry.delete()  # nothing was made: a fixed entry is new next time
        raise refusal(exc) from exc
    except AppError as exc:
        await entry.delete()
        raise Refused([("", exc.message)]) from exc
    except DuplicateKeyError:  # the same entry created concurrently: it exists now
        created = await to.kind.model.get(entry.item_id)
        return Upserted("unchanged", created)
    await _seen(to, entry, {"item_created": True})
    return Upserted("created", item)


async def _existing(
    to: Target, entry: IngestedEntry, data: dict[str, Any], digest: str, url: str | None
) -> Upserted:
    item = await fetch(to.kind, str(entry.item_id))  # a merged item leads to its keeper
    if item is None:
        if not entry.item_created:  # a crash between the key and the item: finish it
            return await _create(to, entry, data, digest, url)
        await _seen(to, entry, {})
        return Upserted("skipped", None, "its item was deleted")
    if not entry.item_created:
        await _seen(to, entry, {"item_created": True})
    if item.status is ItemStatus.archived:
        await _seen(to, entry, {})
        return Upserted("skipped", item, "its item is archived")
    if entry.content_hash == digest:
        await _seen(to, entry, {})
        return Upserted("unchanged", item)
    previous = entry.fields
    changes = {
        k: v for k, v in data.items() if k not in NEVER_CHANGED and not same(v, previous.get(k))
    }
    queued = False
    if changes:
        try:
            item, queued = await catalogue_edit.update(
                to.kind, to.who, str(item.id), changes, None, as_member=True
            )
        except ValidationFailed as exc:
            await _seen(to, entry, {})  # still listed by the source: not "missing"
            raise refusal(exc) from exc
        except AppError as exc:
            await _seen(to, entry, {})
            raise Refused([("", exc.message)]) from exc
        await to.kind.model.get_motor_collection().update_one(
            {"_id": item.id},
            {"$set": {"provenance": provenance(to, entry.external_id, url, digest).model_dump()}},
        )
    await _seen(to, entry, {"content_hash": digest, "fields": plain(data)})
    return Upserted("revised" if queued else "updated", item)


async def _seen(to: Target, entry: IngestedEntry, extra: dict[str, Any]) -> None:
    await IngestedEntry.get_motor_collection().update_one(
        {"_id": entry.id},
        {"$set": {"last_run_id": to.run_id, "last_seen_at": to.fetched_at, **extra}},
    )


async def still_listed(to: Target, external_id: str) -> None:
    """An entry the source still lists but that could not be used this time (its mapping
    was refused): seen, so it is not reported missing."""
    await IngestedEntry.get_motor_collection().update_one(
        {"origin": to.origin, "external_id": external_id},
        {"$set": {"last_run_id": to.run_id, "last_seen_at": to.fetched_at}},
    )
