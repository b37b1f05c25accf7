"""The embedded backend's one deviation from stock mongomock: `_id` lookups by key.

MongoDB answers `{"_id": x}` (and `{"_id": {"$in": [a, b]}}`) from the `_id` index; stock
mongomock runs its filter over every document of the collection, so authenticating a
request (the denylist lookup) and loading the caller cost time linear in the collection.
Here a filter naming `_id` as a plain string or ObjectId (or an `$in` of them) reads the
store by key, then applies the whole filter to what it found with mongomock's own matcher:
the same documents as the scan, at the cost of an index lookup. Any other shape (no `_id`,
an `_id` operator other than `$in`, other value types, more than one hit) is left to the
scan, so results and their order stay what stock mongomock returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bson import ObjectId

_installed = False


def _keys(condition: Any) -> list[Any] | None:
    """The `_id` values to look up, or None when the filter is not a plain key lookup."""
    if type(condition) is str or isinstance(condition, ObjectId):
        return [condition]
    if type(condition) is dict and condition.keys() == {"$in"}:
        values = condition["$in"]
        if type(values) in (list, tuple) and all(
            type(v) is str or isinstance(v, ObjectId) for v in values
        ):
            return list(values)
    return None


def install_id_lookup() -> None:
    """Patch mongomock's collection scan once per process (embedded backend only)."""
    global _installed
    if _installed:
        return
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies

    scan = Collection._iter_documents

    def iter_documents(self: Any, filter: Any) -> Iterator[dict[str, Any]]:
        keys = _keys(filter.get("_id")) if type(filter) is dict else None
        if keys is None:
            return scan(self, filter)  # type: ignore[no-any-return,no-untyped-call]
        store = self._store
        store._remove_expired_documents()  # TTL indexes, as the scan applies them
        documents = store._documents
        found = [documents[key] for key in dict.fromkeys(keys) if key in documents]
        if len(found) > 1:  # several hits: the scan keeps the store's order
            return scan(self, filter)  # type: ignore[no-any-return,no-untyped-call]
        if not found:
            filter_applies(filter, {})  # type: ignore[no-untyped-call]  # a malformed filter still raises, as in the scan
        return (doc for doc in found if filter_applies(filter, doc))  # type: ignore[no-untyped-call]

    iter_documents.__wrapped__ = scan  # type: ignore[attr-defined]  # the stock scan, for tests
    Collection._iter_documents = iter_documents  # type: ignore[method-assign]
    _installed = True
