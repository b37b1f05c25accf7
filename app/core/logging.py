"""structlog set-up: readable console in development, JSON lines in production.

Every record — ours and the standard-library ones (uvicorn, libraries), through the same
processors — is:
- **bounded**: a traceback is rendered without frame locals, at most MAX_FRAMES frames per
  exception and MAX_CHAINED exceptions, and every record has a character budget (strings are
  cut, long lists shortened), so one failure costs one record of a few KiB and
  microseconds, not megabytes and seconds on the event loop;
- **redacted**: values under sensitive keys (password, token, secret, authorization,
  cookie…) at any depth, and, in every string (messages, exception text, tracebacks),
  JWT-shaped strings, `Bearer`/`Basic` credentials, `key=value` pairs with sensitive keys
  and long random-looking secrets.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

import structlog
from structlog.tracebacks import ExceptionDictTransformer

from app.core.config import Settings
from app.core.context import request_id_var

REDACTED = "[redacted]"
MAX_FRAMES = 30  # per exception, innermost kept
MAX_CHAINED = 5  # exceptions in a __cause__/__context__ chain
MAX_STRING = 2_000  # characters per string field
MAX_TRACEBACK = 12_000  # characters of a rendered traceback or stack
MAX_RECORD = 24_000  # characters of string content per record
MAX_ITEMS = 50  # items per list/dict
MAX_DEPTH = 8

# A key containing any of these has its value replaced, whatever the value is.
SENSITIVE_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "session",
    "api_key",
    "apikey",
    "credential",
    "signature",
)
_KEY_WORDS = (*SENSITIVE_KEY_PARTS, "pwd", "csrf", "api-key")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,2}")  # `eyJ` is base64 for `{"`
_HTTP_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic|digest)(?:\s+|%20|\+)[A-Za-z0-9._~+/=%-]+")
# `key=value`, `key: value`, `"key": "value"` (quoted values whole); the key is checked in
# Python, and a match only starts where a word starts, so the scan stays linear.
_KEYED = re.compile(r"(?<![\w-])([\w-]+)([\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;)}\]]+)")
# Long runs of URL-safe base64 mixing upper and lower case with digits, '-' or '_': random
# secrets (reset and verification tokens are 43 such characters). Hex ids and digests,
# snake_case and CamelCase names are left alone.
_RANDOM_RUN = re.compile(r"[A-Za-z0-9_-]{32,}")
_DIGIT_OR_DASH = re.compile(r"[0-9_-]")


# Could the string hold anything `redact_text` replaces? (Checked first, in one scan.)
_SUSPICIOUS = re.compile(r"eyJ|[=:]|(?i:bearer|basic|digest)|[A-Za-z0-9_-]{32}")


def _keyed(match: re.Match[str]) -> str:
    key = match.group(1).lower()
    if any(word in key for word in _KEY_WORDS):
        return match.group(1) + match.group(2) + REDACTED
    return match.group(0)


def _random_looking(match: re.Match[str]) -> str:
    text = match.group(0)
    mixed = text.lower() != text and text.upper() != text
    return REDACTED if mixed and _DIGIT_OR_DASH.search(text) else text


def redact_text(text: str) -> str:
    """Credentials found anywhere in free text replaced by a marker. Each pattern runs only
    when the text could hold what it looks for (most log strings are short and clean)."""
    if "eyJ" in text:
        text = _JWT.sub("[redacted-jwt]", text)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered or "digest" in lowered:
        text = _HTTP_CREDENTIAL.sub(r"\1 " + REDACTED, text)
    if "=" in text or ":" in text:
        text = _KEYED.sub(_keyed, text)
    return _RANDOM_RUN.sub(_random_looking, text)


_SENSITIVE_KEY = re.compile("|".join(SENSITIVE_KEY_PARTS))


@functools.lru_cache(maxsize=1024)
def _sensitive_name(name: str) -> bool:
    return _SENSITIVE_KEY.search(name.lower()) is not None


def _sensitive(key: Any) -> bool:
    return _sensitive_name(key if isinstance(key, str) else str(key))


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _clean(value: Any, budget: _Budget, depth: int, limit: int) -> Any:
    """Redacted, bounded copy of `value` (JSON-friendly types kept as they are)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if type(value) is str and len(value) <= budget.left and not _SUSPICIOUS.search(value):
        budget.left -= len(value)  # the common case: a short, clean string (one C-level scan)
        return value if len(value) <= limit else _clean_text(value, budget, limit)
    if budget.left <= 0:
        return "…"
    if isinstance(value, dict | list | tuple | set | frozenset):
        if depth >= MAX_DEPTH:
            return "…"
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for index, (key, item) in enumerate(value.items()):
                if index >= MAX_ITEMS or budget.left <= 0:
                    out["…"] = f"{len(value) - index} more"
                    break
                name = str(key)[:100]
                budget.left -= len(name) + 4
                out[name] = REDACTED if _sensitive(key) else _clean(item, budget, depth + 1, limit)
            return out
        items = itertools.islice(value, MAX_ITEMS + 1)
        cleaned: list[Any] = []
        for index, item in enumerate(items):
            if index >= MAX_ITEMS or budget.left <= 0:
                cleaned.append(f"… {len(value) - index} more")
                break
            budget.left -= 2
            cleaned.append(_clean(item, budget, depth + 1, limit))
        return cleaned
    return _clean_text(value if isinstance(value, str) else repr(value), budget, limit)


def _clean_text(text: str, budget: _Budget, limit: int) -> str:
    # Redact a little past the cut so a credential straddling it is still recognised whole.
    text = redact_text(text[: limit + 2_100])
    limit = min(limit, max(budget.left, 0))
    if len(text) > limit:
        text = text[:limit] + f"… [{len(text) - limit} more characters]"
    budget.left -= len(text)
    return text


_OWN_KEYS = frozenset({"timestamp", "level", "logger"})  # written by our processors


def sanitize(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Redact and bound every field of a record (run after the exception is rendered)."""
    budget = _Budget(MAX_RECORD)
    for key, value in list(event_dict.items()):
        if key in _OWN_KEYS:
            continue
        if _sensitive(key):
            event_dict[key] = REDACTED
        elif value is None or type(value) is int or type(value) is float:
            continue  # nothing to redact or bound (the common fields of an access line)
        else:
            limit = MAX_TRACEBACK if key in ("exception", "stack") else MAX_STRING
            event_dict[key] = _clean(value, budget, 0, limit)
    return event_dict


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exc_info(value: Any) -> ExcInfo | None:
    if value is True:
        value = sys.exc_info()
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return value
    return None


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception_text(exc: BaseException) -> str:
    """Like `traceback.format_exception`, but at most MAX_FRAMES frames (innermost) per
    exception and MAX_CHAINED chained exceptions, and never any frame's locals."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < MAX_CHAINED:
        seen.add(id(current))
        text = traceback.format_exception(
            type(current), current, current.__traceback__, limit=-MAX_FRAMES, chain=False
        )
        parts.append("".join(text))
        if current.__cause__ is not None:
            current = current.__cause__
            parts.append(_CAUSE)
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
            parts.append(_CONTEXT)
        else:
            current = None
    if current is not None:
        parts.append(f"[{type(current).__name__} and earlier exceptions left out]\n")
    return "".join(reversed(parts))


class ExceptionRenderer:
    """Replaces `exc_info` by a bounded `exception` field, never with frame locals: text for
    the console, structured frames for JSON."""

    def __init__(self, *, structured: bool) -> None:
        self.structured = structured
        self._to_dict = ExceptionDictTransformer(
            show_locals=False, max_frames=MAX_FRAMES, use_rich=False
        )

    def __call__(
        self, _: Any, __: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        info = _exc_info(event_dict.pop("exc_info", None))
        if info is None:
            return event_dict
        try:
            if self.structured:
                event_dict["exception"] = self._to_dict(info)[:MAX_CHAINED]
            else:
                event_dict["exception"] = format_exception_text(info[1])
        except Exception as exc:  # a broken __str__ must not lose the record
            event_dict["exception"] = f"{info[0].__name__} (unrenderable: {type(exc).__name__})"
        return event_dict


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at call time (test capture, redirection)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _StderrHandler(logging.StreamHandler[Any]):
    """Marks the handler we install, so configuring again replaces it."""


def add_request_id(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """The current request's id on every record logged while it is handled (the middleware
    sets `request_id_var`; no per-request context binding)."""
    if "request_id" not in event_dict:
        request_id = request_id_var.get()
        if request_id is not None:
            event_dict["request_id"] = request_id
    return event_dict


_access: Any = None


def access_log() -> Any:
    """The logger of the one access line per request: bound once per configuration (the
    lazy `structlog.get_logger` proxy re-binds on every call, and this runs on every
    request)."""
    return _access if _access is not None else structlog.get_logger("app.access")


def use_json(settings: Settings) -> bool:
    if settings.log_format == "auto":
        return settings.is_production
    return settings.log_format == "json"


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    structured = use_json(settings)
    renderer: Any
    if structured:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(),
            exception_formatter=structlog.dev.plain_traceback,  # never rich's locals
        )
    tail = [ExceptionRenderer(structured=structured), sanitize, renderer]
    global _access
    _access = structlog.wrap_logger(
        structlog.PrintLogger(_CurrentStderr()),  # type: ignore[arg-type]
        # The access line has no exception or stack: the same chain without those steps.
        processors=[
            structlog.contextvars.merge_contextvars,
            add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            sanitize,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
    ).bind()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            *tail,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    # Standard-library records (uvicorn, libraries) go through the same tail.
    handler = _StderrHandler(_CurrentStderr())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                add_request_id,
                structlog.processors.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.StackInfoRenderer(),
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs its own handlers before it loads the app; route its records (startup
    # lines, "Exception in ASGI application", access lines if enabled) through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
