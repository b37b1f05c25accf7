"""Text similarity behind one small interface: texts in, L2-normalised row vectors out, so
the similarity of two texts is the dot product of their rows.

- `LexicalProvider` (the default, and what the embedded backend and the tests use): TF-IDF
  from scikit-learn over our own normalised words (accents and case folded, plurals
  stripped: the same words search uses). Fitted on the whole catalogue of a kind; the fitted
  vocabulary is the snapshot's "space", and changed items are placed in it until the next
  full rebuild re-fits it. CPU work runs in the recommendations' thread pool.
- `AzureOpenAIProvider`: Azure OpenAI embeddings over its REST API (API key, or a managed
  identity through azure-identity). Each text is embedded once: vectors are stored in
  `text_embeddings` with a hash of the text they came from.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import aiohttp
import numpy as np
import scipy.sparse as sp
import structlog
from beanie import PydanticObjectId
from sklearn.feature_extraction.text import TfidfVectorizer

from app.core.config import Settings
from app.core.exceptions import ServiceUnavailable
from app.models.base import utcnow
from app.models.recommendation import TextEmbedding
from app.utils.text import words

log = structlog.get_logger("app.recommendations")

R = TypeVar("R")
Run = Callable[[Callable[[], R]], Awaitable[R]]
MAX_CHARS = 8000  # well under the embedding models' 8,191 tokens
SCOPE = "https://cognitiveservices.azure.com/.default"
RETRIED = frozenset({408, 429, 500, 502, 503, 504})
BATCH = 64  # texts per request
ATTEMPTS = 4  # waits 0.25 s, 0.5 s, 1 s (or what Retry-After says, up to MAX_WAIT) between
MAX_WAIT = 10.0


class EmbeddingsUnavailable(ServiceUnavailable):
    code = "EMBEDDINGS_UNAVAILABLE"
    message = "Recommendations are unavailable for a moment; try again shortly."


@dataclass(frozen=True, slots=True)
class TextDoc:
    owner: str  # "opportunity", "event", "profile"
    owner_id: PydanticObjectId | None
    text: str


class TextProvider(Protocol):
    name: str

    async def fit(self, docs: Sequence[TextDoc]) -> tuple[Any, Any]:
        """(space, matrix): the space changed items are later placed in, and the rows."""

    async def encode(self, space: Any, docs: Sequence[TextDoc]) -> Any:
        """Rows for `docs` in `space` (items that changed since the fit)."""

    async def encode_query(self, space: Any, doc: TextDoc) -> Any:
        """One row (a profile, or an item that is not in the index)."""

    async def close(self) -> None: ...


def _analyse(text: str) -> list[str]:
    return words(text)


class LexicalProvider:
    name = "lexical"

    def __init__(self, run: Run[Any]) -> None:
        self._run = run

    async def fit(self, docs: Sequence[TextDoc]) -> tuple[Any, Any]:
        texts = [d.text for d in docs]

        def fit() -> tuple[Any, Any]:
            vectorizer = TfidfVectorizer(
                analyzer=_analyse, sublinear_tf=True, dtype=np.float32, min_df=1
            )
            try:
                return vectorizer, vectorizer.fit_transform(texts).tocsr()
            except ValueError:  # no words at all (an empty catalogue)
                return None, sp.csr_matrix((len(texts), 1), dtype=np.float32)

        fitted: tuple[Any, Any] = await self._run(fit)
        return fitted

    def transform(self, space: Any, texts: list[str]) -> Any:
        if space is None:
            return sp.csr_matrix((len(texts), 1), dtype=np.float32)
        return space.transform(texts).tocsr()

    async def encode(self, space: Any, docs: Sequence[TextDoc]) -> Any:
        texts = [d.text for d in docs]
        return await self._run(lambda: self.transform(space, texts))

    async def encode_query(self, space: Any, doc: TextDoc) -> Any:
        return await self._run(lambda: self.transform(space, [doc.text]))

    async def close(self) -> None:
        return None


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _normalised(rows: list[list[float]]) -> Any:
    matrix = np.array(rows, dtype=np.float32).reshape(len(rows), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class AzureOpenAIProvider:
    """Embeddings from an Azure OpenAI deployment (`AZURE_OPENAI_*` settings)."""

    name = "azure_openai"

    def __init__(self, settings: Settings) -> None:
        if not settings.azure_openai_endpoint or not settings.azure_openai_embedding_deployment:
            raise ValueError("AZURE_OPENAI_ENDPOINT and _EMBEDDING_DEPLOYMENT are required")
        self.url = (
            f"{settings.azure_openai_endpoint.rstrip('/')}/openai/deployments/"
            f"{settings.azure_openai_embedding_deployment}/embeddings"
        )
        self.api_version = settings.azure_openai_api_version
        self.dimensions = settings.recommendation_embedding_dimensions
        self.model = f"{settings.azure_openai_embedding_deployment}:{self.dimensions or 'native'}"
        self.batch = BATCH
        self.attempts = ATTEMPTS
        self._key = settings.azure_openai_api_key
        self._credential: Any = None
        self._token: tuple[str, float] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _headers(self) -> dict[str, str]:
        if self._key is not None:
            return {"api-key": self._key.get_secret_value()}
        if self._token is None or self._token[1] - time.time() < 300:
            if self._credential is None:
                from azure.identity.aio import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
            token = await self._credential.get_token(SCOPE)
            self._token = (token.token, float(token.expires_on))
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    async def _call(self, texts: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"input": [t[:MAX_CHARS] or " " for t in texts]}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        for attempt in range(1, self.attempts + 1):
            wait = min(MAX_WAIT, 0.25 * 2 ** (attempt - 1))
            try:
                async with self._client().post(
                    self.url,
                    params={"api-version": self.api_version},
                    json=body,
                    headers=await self._headers(),
                ) as response:
                    if response.status == 200:
                        data = await response.json()
                        ordered = sorted(data["data"], key=lambda row: row["index"])
                        return [row["embedding"] for row in ordered]
                    if response.status not in RETRIED:
                        log.error("embeddings_refused", status=response.status)
                        raise EmbeddingsUnavailable()
                    wait = _retry_after(response.headers, wait)
                    log.warning("embeddings_retry", status=response.status, attempt=attempt)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("embeddings_retry", error=type(exc).__name__, attempt=attempt)
            if attempt < self.attempts:
                await asyncio.sleep(wait)
        raise EmbeddingsUnavailable(headers={"Retry-After": "30"})

    async def _embed(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self.batch):
            out += await self._call(texts[start : start + self.batch])
        return out

    async def _vectors(self, docs: Sequence[TextDoc]) -> Any:
        """Stored vectors where the text is unchanged; the rest embedded now and stored."""
        stored: dict[tuple[str, PydanticObjectId], dict[str, Any]] = {}
        owners = {d.owner for d in docs if d.owner_id is not None}
        for owner in owners:
            ids = [d.owner_id for d in docs if d.owner == owner and d.owner_id is not None]
            cursor = TextEmbedding.get_motor_collection().find(
                {"owner": owner, "model": self.model, "owner_id": {"$in": ids}}
            )
            async for row in cursor:
                stored[(owner, PydanticObjectId(row["owner_id"]))] = row
        rows: list[list[float] | None] = []
        missing: list[int] = []
        for n, doc in enumerate(docs):
            row = stored.get((doc.owner, doc.owner_id)) if doc.owner_id else None
            if row is not None and row["text_hash"] == _hash(doc.text):
                rows.append(row["vector"])
            else:
                rows.append(None)
                missing.append(n)
        if missing:
            fresh = await self._embed([docs[n].text for n in missing])
            for n, vector in zip(missing, fresh, strict=True):
                rows[n] = vector
                await self._store(docs[n], vector)
        return _normalised([r for r in rows if r is not None])

    async def _store(self, doc: TextDoc, vector: list[float]) -> None:
        if doc.owner_id is None:
            return
        await TextEmbedding.get_motor_collection().update_one(
            {"owner": doc.owner, "model": self.model, "owner_id": doc.owner_id},
            {"$set": {"text_hash": _hash(doc.text), "vector": vector, "updated_at": utcnow()}},
            upsert=True,
        )

    async def fit(self, docs: Sequence[TextDoc]) -> tuple[Any, Any]:
        return self.model, await self._vectors(docs) if docs else np.zeros((0, 1), np.float32)

    async def encode(self, space: Any, docs: Sequence[TextDoc]) -> Any:
        return await self._vectors(docs) if docs else np.zeros((0, 1), np.float32)

    async def encode_query(self, space: Any, doc: TextDoc) -> Any:
        return await self._vectors([doc])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._credential is not None:
            await self._credential.close()


def _retry_after(headers: Any, default: float) -> float:
    """Azure OpenAI says how long to wait in `retry-after-ms` or `retry-after` (seconds)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return min(MAX_WAIT, max(0.0, float(value) * scale))
            except ValueError:
                continue
    return default


def make_provider(settings: Settings, run: Run[Any]) -> TextProvider:
    if settings.recommendation_text_provider == "azure_openai":
        return AzureOpenAIProvider(settings)
    return LexicalProvider(run)
