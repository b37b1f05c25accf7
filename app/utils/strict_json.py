"""Strict JSON for untrusted bytes (request bodies, cursors).

Python's `json.loads` accepts things no client of ours sends on purpose and some that hurt
later: duplicate keys (the last one silently wins), `NaN`/`Infinity` and numbers that
overflow to infinity, integers with thousands of digits (beyond what BSON can store; past
Python's int-string limit they raise `ValueError` deep inside), lone UTF-16 surrogates (they
cannot be encoded to UTF-8 when stored), invalid UTF-8 and nesting deep enough to hit the
recursion limit. `loads` refuses all of them with one exception type, in time linear in the
input.

It also bounds how many values a document holds (`max_values`): no body of ours has more
than a few hundred, and validation costs per value — a 1 MiB object of 60,000 unknown keys
kept the event loop busy for 2–4 s producing 60,000 "extra field" errors (5 MB of answer);
at this bound the worst body costs ~0.1 s, and the error answer lists 50 problems at most.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 32
MAX_VALUES = 4_096  # values in one document (keys not counted); ours hold a few hundred
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what BSON (and so MongoDB) can store
_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJSONError(ValueError):
    """The bytes are not JSON we accept; `msg` says why, `pos` where (when known)."""

    def __init__(self, msg: str, pos: int = 0) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise StrictJSONError("duplicate key in an object")
        obj[key] = value
    return obj


def _constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text) > 20:  # 2**63 has 19 digits; refuse before int() does any real work
        raise StrictJSONError("integer out of range")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise StrictJSONError("integer out of range")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError("number out of range")
    return value


def _check(value: Any, max_depth: int, max_values: int) -> None:
    """Depth, size and string checks without recursion (the input may be hostile)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 1
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise StrictJSONError("lone surrogate in a string")
        elif isinstance(node, dict | list):
            if depth > max_depth:
                raise StrictJSONError(f"nested deeper than {max_depth} levels")
            count += len(node)
            if count > max_values:
                raise StrictJSONError(f"more than {max_values} values")
            if isinstance(node, dict):
                if any(_SURROGATE.search(key) for key in node):
                    raise StrictJSONError("lone surrogate in a string")
                stack.extend((item, depth + 1) for item in node.values())
            else:
                stack.extend((item, depth + 1) for item in node)


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> Any:
    """Parse `data` (UTF-8 bytes or text) strictly; raise `StrictJSONError` otherwise."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError("not valid UTF-8", exc.start) from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_int=_int,
            parse_float=_float,
        )
    except StrictJSONError:
        raise
    except json.JSONDecodeError as exc:
        raise StrictJSONError(exc.msg, exc.pos) from None
    except RecursionError:
        raise StrictJSONError(f"nested deeper than {max_depth} levels") from None
    _check(value, max_depth, max_values)
    return value
