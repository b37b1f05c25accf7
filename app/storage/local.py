"""Local disk storage: the embedded default."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from anyio import to_thread

from app.storage.base import CHUNK, StorageError, check_name


class LocalStorage:
    """Files under a folder; the embedded default. Reads are streamed by the API itself."""

    backend = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, name: str) -> Path:
        path = (self.root / check_name(name)).resolve()
        if self.root not in path.parents:
            raise ValueError("path escapes the storage root")
        return path

    async def start(self) -> None:
        try:
            await to_thread.run_sync(lambda: self.root.mkdir(parents=True, exist_ok=True))
        except OSError as exc:
            raise StorageError() from exc

    async def close(self) -> None:
        return None

    async def put(
        self, name: str, source: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        path = self._path(name)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    source.seek(0)
                    shutil.copyfileobj(source, out, CHUNK)
                os.replace(tmp, path)  # atomic: a reader never sees half a file
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

        try:
            await to_thread.run_sync(write)
        except OSError as exc:
            raise StorageError() from exc

    async def delete(self, name: str) -> None:
        path = self._path(name)
        await to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def exists(self, name: str) -> bool:
        path = self._path(name)
        return await to_thread.run_sync(path.is_file)

    async def names(self, prefix: str = "") -> AsyncIterator[tuple[str, datetime]]:
        def scan() -> list[tuple[str, datetime]]:
            return sorted(
                (
                    str(p.relative_to(self.root)).replace(os.sep, "/"),
                    datetime.fromtimestamp(p.stat().st_mtime, UTC),
                )
                for p in self.root.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )

        for name, modified in await to_thread.run_sync(scan):
            if name.startswith(prefix):
                yield name, modified

    async def read(self, name: str) -> AsyncIterator[bytes]:
        path = self._path(name)
        handle = await to_thread.run_sync(path.open, "rb")
        try:
            while chunk := await to_thread.run_sync(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def read_url(
        self, name: str, *, content_type: str, disposition: str, minutes: int
    ) -> str | None:
        return None  # the API streams local files itself
