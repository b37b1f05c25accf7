"""Storage and database faults around uploads, container creation and the orphan sweep."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from pymongo.errors import ServerSelectionTimeoutError

from app.core.config import StorageBackend
from app.models.media import Media
from app.services import media_upkeep
from app.storage import AzureBlobStorage, build_storage
from app.tests.api.test_media import png, stored_names, upload
from app.tests.conftest import AZURITE_KEY, make_settings


@pytest.fixture(params=["local", "azure"])
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "azure":
        return {
            "storage_backend": "azure",
            "azure_storage_connection_string": request.getfixturevalue("azurite"),
            "azure_storage_container": f"faults{uuid.uuid4().hex[:12]}",
        }
    return {}


@pytest.mark.parametrize("settings_overrides", [{}])  # swaps in its own dead store
async def test_storage_unreachable_is_503_and_no_record(
    app, client: AsyncClient, entrepreneur
) -> None:
    dead = make_settings(
        storage_backend="azure",
        azure_storage_connection_string=(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
        ),
    )
    healthy = app.state.storage
    app.state.storage = AzureBlobStorage(dead)
    try:
        response = await upload(client, entrepreneur, png())
    finally:
        await app.state.storage.close()
        app.state.storage = healthy
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "STORAGE_UNAVAILABLE"
    assert await Media.find_all().count() == 0


async def test_database_failure_after_blob_write_removes_blob(
    app, client: AsyncClient, entrepreneur, monkeypatch
) -> None:
    async def failing_insert(self, *args, **kwargs):
        raise ServerSelectionTimeoutError("database went away")

    # Fault injection at the driver boundary: the blob is written, then the record fails.
    monkeypatch.setattr(Media, "insert", failing_insert)
    response = await upload(client, entrepreneur, png((400, 400)))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
    assert await stored_names(app) == []


async def test_container_created_at_start_and_private(app, settings) -> None:
    if settings.storage_backend is not StorageBackend.azure:
        assert settings.storage_local_dir.is_dir()
        return
    storage: AzureBlobStorage = app.state.storage
    properties = await storage.container.get_container_properties()
    assert properties.name == settings.azure_storage_container
    assert properties.public_access is None  # private


async def test_orphan_sweep(app, client: AsyncClient, entrepreneur) -> None:
    storage = app.state.storage
    kept = (await upload(client, entrepreneur, png())).json()
    lost = (await upload(client, entrepreneur, png(color="blue"))).json()
    lost_doc = await Media.get(lost["id"])
    await storage.delete(lost_doc.blob_name)  # record without blob
    missing = await client.get(lost["content_url"], headers=entrepreneur.headers)
    if storage.backend == "local":  # streamed by us: refused before the response starts
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "MEDIA_CONTENT_MISSING"
    else:  # a SAS redirect: the store itself answers 404
        assert missing.status_code == 307
    stray = "attachment/2026/01/" + uuid.uuid4().hex + ".pdf"  # blob without record
    await storage.put(stray, io.BytesIO(b"%PDF-1.4\n%%EOF"), 14, "application/pdf", {})
    young = await media_upkeep.find_orphans(storage)  # default grace: one hour
    assert stray not in young.orphan_blobs
    report = await media_upkeep.find_orphans(storage, grace=timedelta(seconds=-1))
    assert stray in report.orphan_blobs
    assert report.missing_blobs == [lost["id"]]
    await media_upkeep.sweep(storage, report)
    kept_doc = await Media.get(kept["id"])
    remaining = sorted(await stored_names(app))
    assert remaining == sorted([kept_doc.blob_name, str(kept_doc.thumbnail_blob_name)])
    assert await Media.get(lost["id"]) is None


def test_build_storage_needs_azure_settings() -> None:
    with pytest.raises(ValueError, match="needs AZURE_STORAGE"):
        build_storage(make_settings(storage_backend="azure"))
