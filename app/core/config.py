"""Application settings, read once from the environment and `.env`."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105 - refused in production


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class StorageBackend(StrEnum):
    local = "local"
    azure = "azure"


# A serialized origin as browsers send it (RFC 6454): lower-case scheme and host, a port.
_ORIGIN = re.compile(r"https?://(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    environment: Environment = Environment.development
    app_name: str = "RunWei API"
    log_level: str = "INFO"
    # auto: JSON lines in production, readable console lines elsewhere
    log_format: Literal["auto", "console", "json"] = "auto"

    # Security / tokens
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    jwt_issuer: str = "runwei-api"
    jwt_audience: str = "runwei-spa"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    # Presenting a just-rotated refresh token within this many seconds (two tabs refreshing
    # at once) gets a sibling pair of the same session; later, it revokes the session.
    refresh_reuse_grace_seconds: int = Field(default=30, ge=0, le=300)
    email_token_hours: int = Field(default=48, ge=1)
    reset_token_minutes: int = Field(default=60, ge=5)
    # Login throttling (no hard lockout): see app/services/login_throttle.py
    login_client_max_failures: int = Field(default=5, ge=1)
    login_account_max_failures: int = Field(default=20, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_backoff_seconds: int = Field(default=30, ge=1)
    login_backoff_max_seconds: int = Field(default=900, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=1024)
    password_hash_rounds: int = Field(default=2, ge=1)

    # Database
    mongodb_url: SecretStr | None = None
    mongodb_db: str = "runwei"

    # HTTP
    cors_origins: Annotated[list[str], NoDecode] = [
        "http://localhost:5173",
        "http://127.0.0.1:5173",
    ]
    cors_allow_credentials: bool = True
    trusted_proxies: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # A request answered before its body was read (413, 401…) is drained up to these bounds so
    # clients that send the whole body before reading still get the answer, not a reset.
    body_drain_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    body_drain_seconds: float = Field(default=10.0, ge=0, le=120)
    public_base_url: str = "http://127.0.0.1:8000"
    api_contact_email: str = "api@runwei.example"
    frontend_url: str = "http://localhost:5173"

    # Rate limits (slowapi / limits notation)
    rate_limit_enabled: bool = True
    rate_limit_storage_uri: str = "memory://"
    rate_limit_login: str = "20/minute"
    rate_limit_register: str = "10/minute"
    rate_limit_forgot_password: str = "5/minute"  # noqa: S105 - a rate, not a secret
    rate_limit_resend_verification: str = "5/minute"
    rate_limit_refresh: str = "30/minute"

    # Email
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    email_from: str = "RunWei <no-reply@runwei.example>"

    # Organisation invitations
    invitation_days: int = Field(default=14, ge=1, le=90)
    invitations_per_organisation_per_day: int = Field(default=50, ge=1)

    # Background tasks (app/tasks): in-process when REDIS_URL is unset; with it, the API only
    # enqueues and `python -m app.worker` runs tasks and schedules (see docs/deployment.md).
    redis_url: SecretStr | None = None
    task_queue: str = Field(default="runwei:tasks", min_length=1, max_length=100)
    task_worker_concurrency: int = Field(default=16, ge=1, le=1000)
    # A message held by a worker that died is redelivered after this (live workers renew it).
    task_idle_timeout_seconds: float = Field(default=300.0, ge=0.5)
    task_retry_max_attempts: int = Field(default=5, ge=1, le=100)
    task_retry_base_seconds: float = Field(default=2.0, gt=0)
    task_retry_max_seconds: float = Field(default=600.0, gt=0)
    task_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    task_stream_maxlen: int = Field(default=100_000, ge=1000)
    task_scheduler_enabled: bool = True
    worker_health_port: int | None = Field(default=None, ge=1, le=65535)

    # Notifications, saved searches (services/notifications, services/saved_searches)
    saved_searches_per_user: int = Field(default=50, ge=1, le=1000)
    notification_stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    notification_stream_retry_ms: int = Field(default=3000, ge=100, le=600_000)
    # A stream ends after this long; the client reconnects with Last-Event-ID (proxies and
    # load balancers recycle long responses anyway).
    notification_stream_max_seconds: float = Field(default=600.0, gt=0, le=86400)
    # Ingestion (app/services/ingestion): polite, bounded, SSRF-guarded fetching of sources.
    # Loopback, private and unique-local addresses are refused unless this is true (tests and
    # local development only: production refuses to start with it); link-local and cloud
    # metadata addresses are refused always.
    ingest_allow_private_networks: bool = False
    ingest_user_agent: str = Field(
        default="RunWeiIngest/1.0 (+https://runwei.example/bot; ingest@runwei.example)",
        min_length=8,
        max_length=200,
    )
    ingest_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    ingest_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    ingest_max_redirects: int = Field(default=5, ge=0, le=10)
    ingest_per_host_concurrency: int = Field(default=2, ge=1, le=2)
    ingest_max_entries: int = Field(default=5000, ge=1, le=100_000)
    ingest_ical_horizon_days: int = Field(default=365, ge=1, le=3650)
    # Freshness: links of published items are checked this often (a scheduled sweep). Unset:
    # on with a real database, off on the embedded one (demo data, tests: no outside traffic).
    link_check_enabled: bool | None = None
    link_check_interval_hours: int = Field(default=168, ge=1)
    # Bulk imports (POST /admin/imports): streamed, never loaded whole.
    import_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)

    # Bootstrap
    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None
    seed_demo_data: bool = True

    # Media storage
    storage_backend: StorageBackend = StorageBackend.local
    storage_local_dir: Path = Path("var/media")
    azure_storage_connection_string: SecretStr | None = None
    azure_storage_account_url: str | None = None
    azure_storage_container: str = "media"
    media_sas_minutes: int = Field(default=10, ge=1, le=60)
    media_max_image_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    media_max_attachment_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Pixel budgets per purpose, counted in what decoding allocates (see media_images.py).
    media_avatar_max_pixels: int = Field(default=2048 * 1024, ge=1)
    media_logo_max_pixels: int = Field(default=2048 * 1024, ge=1)
    media_cover_max_pixels: int = Field(default=4096 * 2048, ge=1)
    # Decoding/re-encoding runs in this many threads at once; more uploads wait (up to
    # MEDIA_PROCESSING_QUEUE of them, for up to MEDIA_PROCESSING_WAIT_SECONDS), then get 503.
    media_processing_workers: int = Field(default=2, ge=1, le=64)
    media_processing_queue: int = Field(default=32, ge=0)
    media_processing_wait_seconds: float = Field(default=20.0, gt=0, le=300)

    # Recommendations (app/services/recommendations): scoring runs in its own thread pool.
    recommendation_text_provider: Literal["lexical", "azure_openai"] = "lexical"
    recommendation_workers: int = Field(default=2, ge=1, le=64)
    recommendation_queue: int = Field(default=64, ge=0)
    recommendation_wait_seconds: float = Field(default=10.0, gt=0, le=120)
    # A cached ranking is recomputed after this long even if nothing it depends on changed
    # (freshness, deadlines and popularity move with time).
    recommendation_cache_seconds: int = Field(default=3600, ge=0)
    # Each process checks its in-memory index against the database this often besides the
    # change counter (catches writes no signal announced), and re-fits it from scratch.
    recommendation_index_refresh_seconds: float = Field(default=60.0, ge=0)
    recommendation_index_rebuild_seconds: float = Field(default=3600.0, ge=1)
    # Saves, applications and RSVPs of everyone (co-interaction, popularity) are reloaded
    # this often.
    recommendation_signals_seconds: float = Field(default=300.0, ge=0)
    # When an item changes, the worker re-ranks for the users active in the last N days
    # (at most this many, most recent first); others are re-ranked when they next ask.
    recommendation_active_days: int = Field(default=14, ge=1, le=365)
    recommendation_refresh_batch: int = Field(default=500, ge=0, le=100_000)
    recommendation_embedding_dimensions: int | None = Field(default=256, ge=1, le=3072)
    azure_openai_endpoint: str | None = None
    azure_openai_embedding_deployment: str | None = None
    azure_openai_api_key: SecretStr | None = None  # unset: managed identity (azure-identity)
    azure_openai_api_version: str = "2024-10-21"

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        """Browsers send an origin as `scheme://host[:port]` and it is matched exactly: a
        trailing slash or a path never matches (every cross-origin call fails), and `null`
        (sandboxed iframes, `file:` and `data:` pages: anyone's) must never be trusted."""
        value = [origin.lower() for origin in value]  # what browsers send
        for origin in value:
            if origin != "*" and not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"CORS_ORIGINS entry {origin!r} is not an origin: scheme://host[:port], "
                    "without path or trailing slash ('null' is never allowed)"
                )
        return value

    @field_validator("first_admin_email")
    @classmethod
    def _admin_email(cls, value: str | None) -> str | None:
        """The one e-mail rule of every route, so the first admin can log in with it."""
        if value is None or value == "":
            return None
        from pydantic import ValidationError

        from app.schemas.validators import EMAIL  # the rule lives with the schemas

        try:
            return EMAIL.validate_python(value)
        except ValidationError:
            raise ValueError(
                "FIRST_ADMIN_EMAIL is not an address the login routes accept "
                "(special-use domains such as .local or .test are refused)"
            ) from None

    @field_validator("redis_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check_consistency(self) -> Settings:
        if self.recommendation_text_provider == "azure_openai" and not (
            self.azure_openai_endpoint and self.azure_openai_embedding_deployment
        ):
            raise ValueError(
                "RECOMMENDATION_TEXT_PROVIDER=azure_openai needs AZURE_OPENAI_ENDPOINT and "
                "AZURE_OPENAI_EMBEDDING_DEPLOYMENT"
            )
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError("CORS_ORIGINS='*' cannot be combined with CORS_ALLOW_CREDENTIALS=true")
        if self.environment is Environment.production:
            key = self.secret_key.get_secret_value()
            if key == DEFAULT_SECRET_KEY:
                raise ValueError("SECRET_KEY is the development default; set a real secret")
            if len(key.encode()) < 32:
                raise ValueError("SECRET_KEY must be at least 32 bytes in production")
            if self.mongodb_url is None:
                raise ValueError("MONGODB_URL is required in production (no in-memory database)")
            if not self.public_base_url.startswith("https://"):
                raise ValueError("PUBLIC_BASE_URL must be https:// in production")
            if self.ingest_allow_private_networks:
                raise ValueError(
                    "INGEST_ALLOW_PRIVATE_NETWORKS=true is refused in production (SSRF guard)"
                )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def embedded_database(self) -> bool:
        return self.mongodb_url is None

    @property
    def dev_endpoints(self) -> bool:
        """`/api/v1/dev/*` (the outbox): on the embedded default only, never in production."""
        return self.embedded_database and not self.is_production

    @property
    def link_checks(self) -> bool:
        if self.link_check_enabled is None:
            return not self.embedded_database
        return self.link_check_enabled


@lru_cache
def get_settings() -> Settings:
    return Settings()
