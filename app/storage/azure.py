"""Azure Blob Storage (also Azurite) through azure-storage-blob's async client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import structlog

from app.core.config import Settings
from app.storage.base import StorageError, check_name

log = structlog.get_logger("app.storage")


class AzureBlobStorage:
    """azure-storage-blob's async client. With a connection string (account key, also Azurite)
    SAS links are signed with the key; with an account URL the app authenticates with
    DefaultAzureCredential (managed identity) and signs user delegation SAS links."""

    backend = "azure"

    def __init__(self, settings: Settings) -> None:
        from azure.storage.blob.aio import BlobServiceClient, ExponentialRetry

        self.container_name = settings.azure_storage_container
        self._credential: Any = None
        # The SDK's default retry waits 15 s, 45 s...: a request would hang for a minute
        # before we could answer 503. Two quick retries, then give up.
        retry = ExponentialRetry(
            initial_backoff=1, increment_base=2, retry_total=2, random_jitter_range=0
        )
        options: dict[str, Any] = {
            "retry_policy": retry,
            "connection_timeout": 5,
            "read_timeout": 30,
        }
        if settings.azure_storage_connection_string is not None:
            self.service = BlobServiceClient.from_connection_string(
                settings.azure_storage_connection_string.get_secret_value(), **options
            )
        elif settings.azure_storage_account_url:
            from azure.identity.aio import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
            self.service = BlobServiceClient(
                settings.azure_storage_account_url, credential=self._credential, **options
            )
        else:
            raise ValueError(
                "STORAGE_BACKEND=azure needs AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL"
            )
        self.container = self.service.get_container_client(self.container_name)
        self._delegation: tuple[Any, datetime] | None = None

    @staticmethod
    def _errors() -> tuple[type[BaseException], ...]:
        import aiohttp
        from azure.core.exceptions import AzureError

        return (AzureError, aiohttp.ClientError, OSError, asyncio.TimeoutError)

    async def start(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            await self.container.create_container()  # private: no public access level
            log.info("storage_container_created", container=self.container_name)
        except ResourceExistsError:
            pass
        except self._errors() as exc:
            raise StorageError() from exc

    async def close(self) -> None:
        await self.service.close()
        if self._credential is not None:
            await self._credential.close()

    async def put(
        self, name: str, source: IO[bytes], size: int, content_type: str, metadata: dict[str, str]
    ) -> None:
        from azure.storage.blob import ContentSettings

        source.seek(0)
        try:
            await self.container.upload_blob(
                check_name(name),
                source,
                length=size,
                overwrite=False,
                content_settings=ContentSettings(content_type=content_type),
                metadata=metadata,
            )
        except self._errors() as exc:
            raise StorageError() from exc

    async def delete(self, name: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            await self.container.delete_blob(check_name(name), delete_snapshots="include")
        except ResourceNotFoundError:
            pass
        except self._errors() as exc:
            raise StorageError() from exc

    async def exists(self, name: str) -> bool:
        try:
            return bool(await self.container.get_blob_client(check_name(name)).exists())
        except self._errors() as exc:
            raise StorageError() from exc

    async def names(self, prefix: str = "") -> AsyncIterator[tuple[str, datetime]]:
        try:
            async for blob in self.container.list_blobs(name_starts_with=prefix or None):
                yield blob.name, blob.last_modified
        except self._errors() as exc:
            raise StorageError() from exc

    async def read(self, name: str) -> AsyncIterator[bytes]:
        try:
            downloader = await self.container.get_blob_client(check_name(name)).download_blob()
            async for chunk in downloader.chunks():
                yield chunk
        except self._errors() as exc:
            raise StorageError() from exc

    async def read_url(
        self, name: str, *, content_type: str, disposition: str, minutes: int
    ) -> str | None:
        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        now = datetime.now(UTC)
        expiry = now + timedelta(minutes=minutes)
        signing: dict[str, Any] = {}
        account_key = getattr(self.service.credential, "account_key", None)
        if account_key:
            signing["account_key"] = account_key
        else:
            signing["user_delegation_key"] = await self._user_delegation_key(now)
        sas = generate_blob_sas(
            account_name=self.service.account_name or "",
            container_name=self.container_name,
            blob_name=check_name(name),
            permission=BlobSasPermissions(read=True),
            start=now - timedelta(minutes=5),  # clock skew
            expiry=expiry,
            content_type=content_type,
            content_disposition=disposition,
            protocol=None if account_key else "https",
            **signing,
        )
        return f"{self.container.get_blob_client(name).url}?{sas}"

    async def _user_delegation_key(self, now: datetime) -> Any:
        """Managed identity: a user delegation key, cached until an hour before it expires."""
        if self._delegation and self._delegation[1] > now + timedelta(hours=1):
            return self._delegation[0]
        expiry = now + timedelta(hours=6)
        try:
            key = await self.service.get_user_delegation_key(now - timedelta(minutes=5), expiry)
        except self._errors() as exc:
            raise StorageError() from exc
        self._delegation = (key, expiry)
        return key
