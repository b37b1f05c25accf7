"""The test databases: embedded without MONGODB_URL, a fresh one per settings object with it."""

from __future__ import annotations

import pytest

from app.tests import databases
from app.tests.conftest import make_settings


def test_without_a_server_every_app_is_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)
    settings = make_settings()
    assert settings.mongodb_url is None
    assert settings.embedded_database


def test_with_a_server_every_settings_object_names_a_database_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://db-a:27017,db-b:27017/runwei_test?replicaSet=rs")
    monkeypatch.setattr(databases, "_drop", lambda names: None)  # no server to drop on here
    first, second = make_settings(), make_settings()
    assert first.mongodb_db != second.mongodb_db
    for settings in (first, second):
        assert settings.mongodb_db.startswith(databases.PREFIX)
        assert settings.mongodb_url is not None
        assert settings.mongodb_url.get_secret_value() == (
            f"mongodb://db-a:27017,db-b:27017/{settings.mongodb_db}?replicaSet=rs"
        )
    assert databases._created[-2:] == [first.mongodb_db, second.mongodb_db]
    databases.drop_created()
    assert databases._created == []


def test_a_server_process_gets_its_own_database(monkeypatch: pytest.MonkeyPatch) -> None:
    dropped: list[list[str]] = []
    monkeypatch.setattr(databases, "_drop", dropped.append)
    monkeypatch.setenv("MONGODB_URL", "mongodb://localhost:27017/runwei_test")
    with databases.for_server_process({"MONGODB_DB": "x", "PATH": "/bin"}) as env:
        name = env["MONGODB_DB"]
        assert env["MONGODB_URL"] == f"mongodb://localhost:27017/{name}"
        assert env["PATH"] == "/bin"
    assert dropped == [[name]]
    monkeypatch.delenv("MONGODB_URL")
    with databases.for_server_process({"MONGODB_DB": "x", "PATH": "/bin"}) as env:
        assert env == {"PATH": "/bin"}
