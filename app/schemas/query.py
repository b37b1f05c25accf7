"""Query models: every list's parameters as one model, validated at the edge.

An endpoint takes `query: Annotated[XQuery, Query()]`. Unknown parameters are a 422
(`extra="forbid"`), closed sets are `Literal`s (so they are enums in the spec), and rules
between parameters live in the model. A rule that has a stable error code of its own
raises it with `coded(...)` or `QueryError`: the error handler answers with that code (see
`core/exceptions.py`), in the common error shape.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from app.core.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageParams


def QueryError(code: str, message: str) -> PydanticCustomError:
    """A validation error with a stable code of its own (UPPER_SNAKE), e.g. INVALID_SORT."""
    return PydanticCustomError(code, message)


def coded(code: str) -> WrapValidator:
    """Report any failure of the wrapped field under `code` instead of VALIDATION_ERROR
    (e.g. an unknown sort is INVALID_SORT), keeping pydantic's explanation as the message."""

    def wrap(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            reason = "; ".join(str(e["msg"]) for e in exc.errors())
            raise QueryError(code, reason) from None

    return WrapValidator(wrap)


def split_values(value: Any) -> Any:
    """Accept both `?tags=a&tags=b` and `?tags=a,b` (and a mix)."""
    values = value if isinstance(value, list) else [value]
    out: list[Any] = []
    for item in values:
        if isinstance(item, str):
            out += [part.strip() for part in item.split(",") if part.strip()]
        else:
            out.append(item)
    return out


# A list of reference slugs given repeated or comma-separated; at most 30 values. Whether
# each exists is the service's question (422 UNKNOWN_REFERENCE), not the model's.
SlugFilter = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=80)]],
    BeforeValidator(split_values),
    Field(max_length=30),
]


class PageQuery(BaseModel):
    """Keyset paging, shared by every list: `limit`, `cursor`, `include_total`."""

    model_config = ConfigDict(extra="forbid")
    # The 422 codes of its own this list can answer with (the spec's examples; the suite
    # fails a test that meets one not listed). Subclasses add theirs.
    error_codes: ClassVar[tuple[str, ...]] = ("INVALID_CURSOR",)

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size, 1–100.")
    cursor: str | None = Field(
        default=None, max_length=MAX_CURSOR_LENGTH, description="Opaque cursor from `next_cursor`."
    )
    include_total: bool = Field(default=False, description="Also count all matches.")

    @property
    def page(self) -> PageParams:
        return PageParams(limit=self.limit, cursor=self.cursor, include_total=self.include_total)
