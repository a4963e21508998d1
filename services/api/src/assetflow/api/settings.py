"""API settings: the service base, S3 and MongoDB, plus API options (env ``API_*``)."""

from typing import Any, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from assetflow.domain.tokens import AuthMode, AuthSettings
from assetflow.domain.webhooks import WithWebhooks
from assetflow.platform.settings import ServiceSettings, WithMongo, WithS3


class ApiOptions(BaseModel):
    """HTTP-facing options."""

    host: str = Field(default="127.0.0.1", description="unused: uvicorn's --host decides")
    port: int = Field(default=8000, description="unused: uvicorn's --port decides")
    presign_expires_s: int = Field(
        default=900, ge=1, le=7 * 24 * 3600, description="originals shown or downloaded"
    )
    rendition_url_expires_s: int = Field(
        default=24 * 3600, ge=1, le=7 * 24 * 3600, description="thumbnails, previews (immutable)"
    )
    rendition_url_period_s: int = Field(
        default=3600,
        ge=0,
        le=24 * 3600,
        description="a rendition's URL stays the same this long (browsers reuse what they "
        "fetched; must divide a day; 0: a new URL every second)",
    )
    upload_url_expires_s: int = Field(
        default=3600, ge=1, le=7 * 24 * 3600, description="presigned PUTs of uploads and parts"
    )
    snapshot_url_expires_s: int = Field(
        default=12 * 3600, ge=1, le=7 * 24 * 3600, description="presigned snapshot downloads"
    )
    cursor_secret: SecretStr = Field(
        default=SecretStr("dev-cursor-secret"), description="signs listing page cursors"
    )
    share_secret: SecretStr = Field(
        default=SecretStr("dev-share-secret"), description="signs unlocked share-link sessions"
    )
    share_session_s: int = Field(
        default=3600, ge=60, le=24 * 3600, description="an unlocked share link stays open"
    )
    default_limit: int = Field(default=50, ge=1, le=500, description="listing page size")
    media_proxy: bool = Field(
        default=False, description="stream files through the API instead of redirecting"
    )
    multipart_threshold: int = Field(
        default=64 * 1024 * 1024, ge=5 * 1024 * 1024, description="bytes; above: multipart"
    )
    upload_limits: dict[str, int] = Field(
        default={
            "image/*": 5 * 1024**3,
            "application/octet-stream": 100 * 1024**3,  # RAW files, as many cameras label them
            "application/zip": 100 * 1024**3,  # dataset zips to import
        },
        description="largest upload per content type (glob patterns, first match wins)",
    )
    auth: AuthMode = Field(default="off", description="off (ENV=local only) or jwt")
    auth_secret: SecretStr | None = Field(default=None, description="HS256 shared secret")
    auth_jwks_url: str | None = Field(default=None, description="RS256/ES256 keys by kid")
    auth_issuer: str = Field(default="assetflow", description="required iss claim")
    auth_audience: str = Field(default="assetflow-api", description="required aud claim")
    auth_leeway_s: int = Field(
        default=30, ge=0, le=300, description="clock skew allowed on exp and nbf"
    )

    @field_validator("auth_secret", "auth_jwks_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """``API_AUTH_SECRET=`` (as compose passes an unset variable) means none."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _stable_renditions(self) -> "ApiOptions":
        """A rendition URL's period divides a day and its validity stays within S3's week."""
        period = self.rendition_url_period_s
        if period and 86_400 % period:
            raise ValueError(f"rendition_url_period_s must divide a day (86400), not {period}")
        if self.rendition_url_expires_s + period > 7 * 24 * 3600:
            raise ValueError("rendition_url_expires_s + rendition_url_period_s exceeds 7 days")
        return self

    live_queue: int = Field(
        default=256, ge=1, le=100_000, description="live events a subscriber may fall behind"
    )
    live_heartbeat_s: float = Field(default=15.0, gt=0, description="SSE keep-alive interval")
    live_send_timeout_s: float = Field(
        default=30.0, gt=0, description="a live stream whose write stalls this long is closed"
    )
    live_replay_events: int = Field(
        default=10_000, ge=1, description="Last-Event-ID resume window, in events"
    )
    live_replay_s: float = Field(
        default=300.0, ge=0, description="Last-Event-ID resume window, in seconds"
    )
    resume_interval_s: float = Field(
        default=15.0, gt=0, description="how often orphaned tag commands are looked for"
    )


class ApiSettings(ServiceSettings, WithS3, WithMongo, WithWebhooks):
    """Everything the API reads from the environment."""

    api: ApiOptions = ApiOptions()

    def auth_settings(self) -> AuthSettings:
        """How callers are authenticated (``API_AUTH``, ``API_AUTH_SECRET``, ...)."""
        options = self.api
        return AuthSettings(
            mode=options.auth,
            secret=options.auth_secret,
            jwks_url=options.auth_jwks_url,
            issuer=options.auth_issuer,
            audience=options.auth_audience,
            leeway_s=options.auth_leeway_s,
        )

    @model_validator(mode="after")
    def _auth_fits_env(self) -> Self:
        """Runs after the base's secret check: auth off only with ENV=local, jwt with a key."""
        self.auth_settings().check(self.env)
        return self
