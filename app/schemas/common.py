"""Schemas shared by every domain: the error shape and small helpers."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable UPPER_SNAKE code a client can switch on.")
    message: str
    details: list[Any] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The shape of every error response."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": {
                    "code": "NOT_FOUND",
                    "message": "The resource was not found.",
                    "details": [],
                },
                "request_id": "6f1c2b7e0d9a4c3b",
            }
        }
    )

    error: ErrorDetail
    request_id: str | None = None


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


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the given status codes, all with the common error schema."""
    descriptions = {
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
        503: "Service unavailable",
    }
    return {
        code: {"model": ErrorResponse, "description": descriptions.get(code, "Error")}
        for code in codes
    }
