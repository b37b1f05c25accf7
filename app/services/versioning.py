"""Optimistic concurrency for documents with a `version` field (ETag / If-Match)."""

from __future__ import annotations

from typing import Any, TypeVar

from beanie import Document
from pydantic import ValidationError

from app.core.exceptions import PreconditionFailed, ValidationFailed
from app.models.base import utcnow

D = TypeVar("D", bound=Document)


def check_version(doc: Any, expected: int | None, what: str) -> None:
    if expected is not None and expected != doc.version:
        raise PreconditionFailed(
            f"The {what} changed since you read it (version {doc.version}).",
            code="VERSION_MISMATCH",
        )


def validate_changes(doc: D, changes: dict[str, Any], what: str) -> D:
    """The document as it would be after `changes`, validated (422 when it would be invalid)."""
    try:
        validated: D = type(doc).model_validate(doc.model_dump() | changes)
        return validated
    except ValidationError as exc:  # a change the input schema let through but the document refuses
        raise ValidationFailed(
            f"The {what} would not be valid after this change.",
            details=[{"loc": ["body", *map(str, e["loc"])], "msg": e["msg"]} for e in exc.errors()],
        ) from exc


async def save_versioned(
    doc: D, changes: dict[str, Any], expected: int | None, what: str, *, touch: bool = True
) -> D:
    """Apply `changes` only if nobody changed `doc` meanwhile: one conditional update on
    `version` (then bumped). The merged document is validated before anything is written.
    `touch=False` keeps `updated_at` (for changes that are not to the content itself)."""
    check_version(doc, expected, what)
    model = type(doc)
    if touch:
        changes = {**changes, "updated_at": utcnow()}
    merged = validate_changes(doc, changes, what)
    encoded = merged.model_dump(include=set(changes))
    version: int = doc.version
    result = await model.get_motor_collection().update_one(
        {"_id": doc.id, "version": version}, {"$set": encoded, "$inc": {"version": 1}}
    )
    if result.modified_count == 0:
        raise PreconditionFailed(
            f"The {what} changed while you were editing it.", code="VERSION_MISMATCH"
        )
    fresh = await model.get(doc.id)
    assert fresh is not None  # noqa: S101
    return fresh
