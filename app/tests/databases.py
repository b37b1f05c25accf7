"""Which database a test's app uses: the embedded one, or a fresh one on MONGODB_URL's server.

Without `MONGODB_URL` every app gets its own in-memory database (mongomock), as always. With
it, every settings object the tests build (`make_settings`, so every app, worker and server
a test starts) names a database of its own on that server — unique per call, so tests in
parallel workers never meet — and the autouse fixture in conftest.py drops each one when its
test ends. The code under test is the same either way: only the settings differ. CI's
`mongodb` job runs the whole suite like this.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

SERVER_ENV = "MONGODB_URL"
PREFIX = "runwei_t_"

_created: list[str] = []  # databases named since the last drop (this process only)


def server_url() -> str | None:
    return os.environ.get(SERVER_ENV) or None


def with_database(url: str, name: str) -> str:
    """`url` with its database path replaced by `name` (options and hosts kept)."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()


def _new_name() -> str:
    return f"{PREFIX}{uuid.uuid4().hex[:16]}"


def fresh() -> dict[str, Any]:
    """Settings values for a new database: none (embedded) unless MONGODB_URL is set."""
    url = server_url()
    if url is None:
        return {"mongodb_url": None}
    name = _new_name()
    _created.append(name)
    return {"mongodb_url": with_database(url, name), "mongodb_db": name}


def drop_created() -> None:
    """Drop every database `fresh()` named since the last call (no-op without MONGODB_URL)."""
    names = list(_created)
    _created.clear()
    _drop(names)


@contextmanager
def for_server_process(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """`env` for a server process a test module starts: without MONGODB_URL (the server
    then uses its embedded database), or with MONGODB_URL/MONGODB_DB naming a fresh
    database of its own, dropped when the block ends."""
    env = {k: v for k, v in env.items() if k not in (SERVER_ENV, "MONGODB_DB")}
    url = server_url()
    if url is None:
        yield env
        return
    name = _new_name()
    try:
        yield {**env, SERVER_ENV: with_database(url, name), "MONGODB_DB": name}
    finally:
        _drop([name])


def _drop(names: list[str]) -> None:
    url = server_url()
    if url is None or not names:
        return
    from pymongo import MongoClient

    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=10_000)
    try:
        for name in names:
            client.drop_database(name)
    finally:
        client.close()
