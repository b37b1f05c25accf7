"""Schemas shared by every domain: the error shape and small helpers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Detail(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldIssue(_Detail):
    """A problem with one input: where (`["body", "email"]`, `["query", "limit"]`), what."""

    loc: list[str | int] = Field(
        max_length=32, description="Where: body, query, path or header, then names (or indexes)."
    )
    msg: str = Field(max_length=2000)
    type: str | None = Field(default=None, max_length=100, description="Kind of problem.")
    input: str | None = Field(default=None, max_length=200, description="The refused value.")


class TransitionDetail(_Detail):
    """A workflow transition the item's status does not allow (INVALID_TRANSITION)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", max_length=40, description="The item's status.")
    action: str = Field(max_length=40, description="The transition asked for.")


class ThrottleDetail(_Detail):
    """A login back-off (LOGIN_THROTTLED): when this client may try again."""

    unlock_at: datetime = Field(description="ISO 8601 UTC, e.g. 2026-05-01T09:30:00Z.")
    retry_after: int = Field(ge=1, le=86400, description="Seconds; also in `Retry-After`.")


class StatusDetail(_Detail):
    """The state that conflicts with the request (e.g. INVITATION_NOT_PENDING)."""

    status: str = Field(max_length=40)


class ReasonDetail(_Detail):
    """Why an input was refused, in words (e.g. IMAGE_TOO_COMPLEX: which structure)."""

    reason: str = Field(max_length=500)


class FileTypeDetail(_Detail):
    """The type found in an uploaded file's bytes (UNSUPPORTED_FILE_TYPE)."""

    detected: str | None = Field(max_length=100)


class ImageBudgetDetail(_Detail):
    """An image too large to decode safely (IMAGE_TOO_LARGE)."""

    width: int = Field(ge=0)
    height: int = Field(ge=0)
    max_pixels: int = Field(ge=0)
    decode_bytes: int = Field(ge=0)
    max_decode_bytes: int = Field(ge=0)


ErrorDetailItem = (
    FieldIssue
    | TransitionDetail
    | ThrottleDetail
    | StatusDetail
    | FileTypeDetail
    | ImageBudgetDetail
    | ReasonDetail
)


class ErrorDetail(BaseModel):
    code: str = Field(
        max_length=64,
        pattern=r"^[A-Z][A-Z0-9_]+$",
        description="Stable UPPER_SNAKE code a client can switch on.",
    )
    message: str = Field(max_length=2000, description="For people; may change.")
    details: list[ErrorDetailItem] = Field(default_factory=list, max_length=1000)


class ErrorResponse(BaseModel):
    """The shape of every error response."""

    error: ErrorDetail
    request_id: str | None = Field(
        default=None, max_length=64, description="Also in the `X-Request-ID` header."
    )


class InputModel(BaseModel):
    """Base for request bodies: unknown fields (and so `$`-prefixed keys) are rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchModel(InputModel):
    """PATCH bodies: omit a field to leave it unchanged; `null` only where the field can be
    cleared (listed in `nullable`), otherwise a 422 — never a half-valid document."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _reject_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k, v in data.items() if v is None and k not in cls.nullable)
            if bad:
                raise ValueError(
                    f"{', '.join(bad)} cannot be null; omit a field to leave it unchanged"
                )
        return data


class Message(BaseModel):
    message: str


ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Rate limited",
    500: "Unexpected error",
    503: "Service unavailable",
}


def error_example(code: str, message: str | None = None) -> dict[str, Any]:
    """An OpenAPI example of the error shape with `code`."""
    text = message or code.replace("_", " ").capitalize() + "."
    return {
        "summary": code,
        "value": {
            "error": {"code": code, "message": text, "details": []},
            "request_id": "6f1c2b7e0d9a4c3b9e8f7a6b5c4d3e2f",
        },
    }


def error_responses(
    *statuses: int, codes: Mapping[int, Iterable[str]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the given statuses, all with the common error schema.

    `codes` names the error codes a status really answers with on this route (examples in
    the spec); statuses without them get the usual ones (`app/api/openapi_contract.py`).
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "model": ErrorResponse,
            "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        }
        if codes and status in codes:
            examples = {code: error_example(code) for code in codes[status]}
            response["content"] = {"application/json": {"examples": examples}}
        responses[status] = response
    for status in codes or {}:
        if status not in responses:
            raise ValueError(f"codes for {status}, which is not among the statuses")
    return responses
