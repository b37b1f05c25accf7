"""The raw query string, checked once per request before any endpoint reads it.

Starlette decodes query strings leniently (a bad `%` escape stays literal, invalid UTF-8
becomes U+FFFD), so without this an endpoint would search for, store or echo mangled text.
Refused here, in the common error shape:
- longer than MAX_QUERY_BYTES (414), more than MAX_QUERY_FIELDS parameters (400);
- a `%` not followed by two hex digits, bytes that are not UTF-8 once unescaped, control
  characters (NUL included) in a name or value (400 INVALID_QUERY_STRING);
- names with `$` or `[` — operator syntax (`?status[$ne]=x`) is never accepted (422) —
  except a trailing `[]` on a plain name (`?type[]=a&type[]=b`, what axios/qs send for
  arrays): `StrictRoute` reads it as the list parameter `type` (and refuses it on a
  parameter that takes one value).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

MAX_QUERY_BYTES = 8192
MAX_QUERY_FIELDS = 100

_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ARRAY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\[\]$")

Rejection = tuple[int, str, str, list[Any]]


def _invalid(reason: str) -> Rejection:
    return (
        400,
        "INVALID_QUERY_STRING",
        "The query string is not valid.",
        [{"loc": ["query"], "msg": reason, "type": "value_error"}],
    )


def check_query_string(raw: bytes) -> Rejection | None:
    """None when `raw` is acceptable, else (status, code, message, details)."""
    if not raw:
        return None
    if len(raw) > MAX_QUERY_BYTES:
        return (414, "URI_TOO_LONG", f"The query string exceeds {MAX_QUERY_BYTES} bytes.", [])
    if _BAD_ESCAPE.search(raw):
        return _invalid("'%' must start a %XX escape")
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except UnicodeDecodeError:
        return _invalid("not UTF-8 once unescaped")
    except ValueError:
        return _invalid(f"more than {MAX_QUERY_FIELDS} parameters")
    if any(_CONTROL.search(name) or _CONTROL.search(value) for name, value in pairs):
        return _invalid("control characters are not accepted")
    operators = [
        name for name, _ in pairs if "$" in name or ("[" in name and not _ARRAY_NAME.match(name))
    ]
    if operators:
        return (
            422,
            "INVALID_QUERY",
            "Query parameter names may not contain '$' or '['.",
            [{"loc": ["query", k], "msg": "operator syntax is not accepted"} for k in operators],
        )
    return None
