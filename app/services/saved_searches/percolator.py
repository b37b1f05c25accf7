"""Percolation: which saved searches does an item match? The stored queries are indexed in
memory by their selective terms (`queries.search_keys`); an item is looked up under its own
terms and only those candidates' predicates are evaluated — no database query per saved
search. The index is loaded once per process and kept fresh with one query per percolation
("what changed since I last looked", served by the `updated_at` index), so several workers
each hold a correct copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from beanie import PydanticObjectId

from app.db.session import scan
from app.models.saved_search import SavedSearch, SavedSearchVersion, SearchKind
from app.services.saved_searches.queries import _values, item_keys
from app.utils.geo import haversine_km

log = structlog.get_logger("app.saved_searches")

# Saved at the same millisecond as the last one we read may not have been visible yet:
# re-read a little before the watermark (duplicates are replaced by `version`).
OVERLAP = timedelta(seconds=2)
FIELDS = ("user_id", "kind", "name", "spec", "keys", "alert", "active", "updated_at")


@dataclass(frozen=True, slots=True)
class Stored:
    id: PydanticObjectId
    user_id: PydanticObjectId
    kind: SearchKind
    name: str
    spec: dict[str, Any]
    keys: tuple[str, ...]
    alert: str
    updated_at: datetime


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _in_range(value: datetime | None, low: str | None, high: str | None) -> bool:
    if value is None:
        return False
    if low is not None and value < datetime.fromisoformat(low):
        return False
    return not (high is not None and value > datetime.fromisoformat(high))


def matches(kind: SearchKind, spec: dict[str, Any], item: dict[str, Any], now: datetime) -> bool:
    """The list's filters, evaluated on one item (`queries.item_fields`) — the same meaning
    as the MongoDB clauses of `GET /opportunities` / `GET /events`."""
    if spec.get("q") and not set(spec["q"]) <= set(item.get("search_tokens") or ()):
        return False
    for path, wanted in spec.get("any", {}).items():
        if not set(wanted) & {str(v) for v in _values(item, path)}:
            return False
    org = spec.get("organisation")
    if org is not None and org not in (item["organisation_id"], item["organisation_slug"]):
        return False
    for name in ("country", "region"):
        if name in spec:
            path, value = spec[name]
            if value not in _values(item, path):
                return False
    if "city" in spec and spec["city"] not in _values(item, "venue.city"):
        return False
    if "currency" in spec and item.get("currency") != spec["currency"]:
        return False
    if "amount_min" in spec and not (
        item.get("amount_max") is not None and item["amount_max"] >= spec["amount_min"]
    ):
        return False
    if "amount_max" in spec and not (
        item.get("amount_min") is not None and item["amount_min"] <= spec["amount_max"]
    ):
        return False
    if "featured" in spec and bool(item.get("featured")) != spec["featured"]:
        return False
    if "free" in spec and (item.get("price", 0) == 0) != spec["free"]:
        return False
    if "range" in spec:
        path, low, high = spec["range"]
        if not _in_range(_dt(item.get(path)), low, high):
            return False
    if spec.get("open_now") and not _open(kind, item, now):
        return False
    if "near" in spec:
        lat, lng, radius = spec["near"]
        venue = item.get("venue") or {}
        if venue.get("lat") is None or venue.get("lng") is None:
            return False
        if haversine_km(lat, lng, venue["lat"], venue["lng"]) > radius:
            return False
    return True


def _open(kind: SearchKind, item: dict[str, Any], now: datetime) -> bool:
    if kind == "opportunity":
        deadline = _dt(item.get("deadline_sort"))
        return deadline is not None and deadline > now
    end = _dt(item.get("end_at"))
    closes = _dt(item.get("registration_deadline"))
    return end is not None and end > now and (closes is None or closes > now)


class Percolator:
    def __init__(self, database: Any = None) -> None:
        self.database = database
        self.searches: dict[PydanticObjectId, Stored] = {}
        self.index: dict[str, set[PydanticObjectId]] = {}
        self.watermark: datetime | None = None
        self.version = -1

    def _remove(self, search_id: PydanticObjectId) -> None:
        old = self.searches.pop(search_id, None)
        if old is None:
            return
        for key in old.keys:
            bucket = self.index.get(key)
            if bucket is not None:
                bucket.discard(search_id)
                if not bucket:
                    del self.index[key]

    def _add(self, stored: Stored) -> None:
        self.searches[stored.id] = stored
        for key in stored.keys:
            self.index.setdefault(key, set()).add(stored.id)

    def load(self, raw: dict[str, Any]) -> None:
        search_id = raw["_id"]  # an ObjectId as stored (hashes and compares like ours)
        current = self.searches.get(search_id)
        if current is not None and current.updated_at > raw["updated_at"]:
            return  # we already hold a newer state
        self._remove(search_id)
        if raw.get("active", True):
            self._add(
                Stored(
                    id=search_id,
                    user_id=raw["user_id"],
                    kind=raw["kind"],
                    name=raw["name"],
                    spec=raw["spec"],
                    keys=tuple(raw["keys"]),
                    alert=raw["alert"],
                    updated_at=raw["updated_at"],
                )
            )

    async def refresh(self) -> int:
        """Read what changed since the last refresh (everything, the first time). When the
        change counter has not moved, that is one lookup by id."""
        state = await SavedSearchVersion.get_motor_collection().find_one({"_id": "all"})
        version = int(state["version"]) if state else 0
        if self.watermark is not None and version == self.version:
            return 0
        self.version = version
        query: dict[str, Any] = {}
        if self.watermark is not None:
            query = {"updated_at": {"$gte": self.watermark - OVERLAP}}
        started = time.perf_counter()
        read = 0
        async for raw in scan(SavedSearch.get_motor_collection(), query, FIELDS):
            self.load(raw)
            read += 1
            if self.watermark is None or raw["updated_at"] > self.watermark:
                self.watermark = raw["updated_at"]
        if read > 1000:
            log.info(
                "percolator_loaded", searches=read, seconds=round(time.perf_counter() - started, 3)
            )
        return read

    def candidates(self, kind: SearchKind, item: dict[str, Any]) -> set[PydanticObjectId]:
        found: set[PydanticObjectId] = set()
        for key in item_keys(kind, item):
            found |= self.index.get(key, set())
        return found

    def match(self, kind: SearchKind, item: dict[str, Any], now: datetime) -> list[Stored]:
        hits = []
        for search_id in self.candidates(kind, item):
            stored = self.searches[search_id]
            if stored.kind == kind and matches(kind, stored.spec, item, now):
                hits.append(stored)
        return sorted(hits, key=lambda s: (str(s.user_id), s.updated_at, str(s.id)))


_shared: list[Percolator] = []


def shared() -> Percolator:
    """This process's percolator (the worker's, or the API's without Redis), for the
    database the app is connected to now (tests connect a fresh one per test)."""
    database = SavedSearch.get_motor_collection().database
    if not _shared or _shared[0].database is not database:
        _shared[:] = [Percolator(database)]
    return _shared[0]


def reset() -> None:
    """Forget the index (a new database: tests, scripts)."""
    _shared.clear()
