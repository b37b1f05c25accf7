"""The storage interface every backend implements, and the blob-name rule."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Protocol

from app.core.exceptions import ServiceUnavailable

BLOB_NAME = re.compile(r"^[a-z_]+/\d{4}/\d{2}/[0-9a-f]{32}(?:_thumb)?\.(?:jpg|png|gif|webp|pdf)$")
CHUNK = 64 * 1024


class StorageError(ServiceUnavailable):
    code = "STORAGE_UNAVAILABLE"
    message = "File storage is unavailable; try again shortly."


def check_name(name: str) -> str:
    if not BLOB_NAME.fullmatch(name):
        raise ValueError(f"refusing a blob name the server did not generate: {name!r}")
    return name


class Storage(Protocol):
    backend: str

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def put(
        self, name: str, source: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None: ...
    async def delete(self, name: str) -> None: ...
    async def exists(self, name: str) -> bool: ...
    def names(self, prefix: str = "") -> AsyncIterator[tuple[str, datetime]]: ...
    def read(self, name: str) -> AsyncIterator[bytes]: ...
    async def read_url(
        self, name: str, *, content_type: str, disposition: str, minutes: int
    ) -> str | None: ...
