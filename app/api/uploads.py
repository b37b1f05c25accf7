"""Uploads: the route marker and the streaming multipart reader.

Routes that take a file are `UploadRoute`s (`router.add_api_route(...,
route_class_override=UploadRoute)`, or an `APIRouter(route_class=UploadRoute)`): their
limits are per purpose and enforced while the body streams, so the request middleware's
general body limit (`MAX_BODY_BYTES`) does not apply to them — `upload_path_pattern` tells
it which paths those are, from the routes themselves.

The reader puts the file in a spooled temp file chunk by chunk and refuses the upload (413)
the moment it passes its limit — the body is never held in memory whole, nor written to
disk past the limit.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from fastapi.routing import iter_route_contexts
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.routing import BaseRoute

from app.api.routing import StrictRoute
from app.core.exceptions import TooLarge, UnsupportedMedia, ValidationFailed


class UploadRoute(StrictRoute):
    """A route that streams its own (multipart) body under its own, per-purpose limit."""


def upload_path_pattern(routes: Sequence[BaseRoute]) -> re.Pattern[str] | None:
    """One pattern matching the path of every `UploadRoute` among `routes` (any depth)."""
    paths = sorted(
        {
            re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(str(context.path)))
            for context in iter_route_contexts(routes)
            if isinstance(context.original_route, UploadRoute)
        }
    )
    return re.compile("|".join(f"(?:{p})" for p in paths)) if paths else None


SPOOL_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024
MAX_PARTS = 8
MAX_BOUNDARY = 200  # RFC 2046 says 70; some clients send more; python-multipart stops at 256


@dataclass
class Upload:
    filename: str | None
    declared_type: str | None
    file: IO[bytes]
    size: int = 0


@dataclass
class _State:
    fields: dict[str, str] = field(default_factory=dict)
    upload: Upload | None = None
    headers: dict[bytes, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    name: str | None = None
    is_file: bool = False
    buffer: bytearray = field(default_factory=bytearray)
    parts: int = 0


async def read_upload(
    request: Request, *, file_field: str, limit_for: Callable[[dict[str, str]], int]
) -> tuple[dict[str, str], Upload | None]:
    """Parse `multipart/form-data` from the request stream.

    `limit_for(fields)` gives the byte limit for the file given the text fields seen so far
    (so a `purpose` sent before the file tightens the limit at once; after it, the largest
    limit applies while streaming and the caller checks again)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise UnsupportedMedia("Send the upload as multipart/form-data.", code="MULTIPART_REQUIRED")
    if len(boundary) > MAX_BOUNDARY:  # python-multipart raises past 256: that was a 500
        raise ValidationFailed(
            f"The multipart boundary is longer than {MAX_BOUNDARY} characters.",
            code="INVALID_MULTIPART",
        )
    state = _State()

    def on_part_begin() -> None:
        state.parts += 1
        if state.parts > MAX_PARTS:
            raise ValidationFailed("Too many form parts.", code="INVALID_MULTIPART")
        state.headers, state.name, state.is_file = {}, None, False
        state.buffer = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_field.lower()] = state.header_value
        state.header_field, state.header_value = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state.name = name
        if b"filename" in disposition:
            if name != file_field or state.upload is not None:
                raise ValidationFailed(
                    f"Send exactly one file, in the '{file_field}' field.", code="INVALID_MULTIPART"
                )
            state.is_file = True
            state.upload = Upload(
                filename=disposition[b"filename"].decode("utf-8", "replace"),
                declared_type=state.headers.get(b"content-type", b"").decode("latin-1") or None,
                file=tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES),  # noqa: SIM115 - handed to the caller
            )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if state.is_file and state.upload is not None:
            state.upload.size += len(chunk)
            if state.upload.size > limit_for(state.fields):
                raise TooLarge(
                    "The file is larger than allowed for this purpose.", code="FILE_TOO_LARGE"
                )
            state.upload.file.write(chunk)
        else:
            state.buffer += chunk
            if len(state.buffer) > MAX_FIELD_BYTES:
                raise TooLarge("A form field is too large.", code="FIELD_TOO_LARGE")

    def on_part_end() -> None:
        if not state.is_file and state.name:
            state.fields[state.name] = state.buffer.decode("utf-8", "replace")

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:  # every python-multipart refusal (parse errors included)
        _discard(state)
        raise ValidationFailed(
            "The multipart body is malformed.", code="INVALID_MULTIPART"
        ) from exc
    except ClientDisconnect:
        _discard(state)
        raise
    except Exception:
        _discard(state)
        raise
    if state.upload is not None:
        state.upload.file.seek(0)
    return state.fields, state.upload


def _discard(state: _State) -> None:
    if state.upload is not None:
        state.upload.file.close()


async def read_one_file(request: Request, limit: int) -> Upload:
    """A multipart body whose `file` is all that is needed (imports): 422 FILE_REQUIRED
    without one. The caller closes `upload.file`."""
    _, upload = await read_upload(request, file_field="file", limit_for=lambda _: limit)
    if upload is None:
        raise ValidationFailed(
            "The file is missing.",
            code="FILE_REQUIRED",
            details=[{"loc": ["body", "file"], "msg": "required"}],
        )
    return upload
