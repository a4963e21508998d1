"""API settings: shared sections plus API options (env ``API_*``)."""

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.settings import (
    KafkaSettings,
    MongoSettings,
    ObservabilitySettings,
    S3Settings,
    refuse_dev_secrets,
)


class ApiOptions(BaseModel):
    """HTTP-facing options."""

    host: str = "127.0.0.1"
    port: int = 8000
    presign_expires_s: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    snapshot_url_expires_s: int = Field(
        default=12 * 3600, ge=1, le=7 * 24 * 3600, description="presigned snapshot downloads"
    )
    cursor_secret: SecretStr = SecretStr("dev-cursor-secret")
    default_limit: int = Field(default=50, ge=1, le=500)
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
    resume_interval_s: float = Field(
        default=15.0, gt=0, description="how often orphaned tag commands are looked for"
    )


class ApiSettings(BaseSettings):
    """Everything the API reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    s3: S3Settings = S3Settings()
    mongo: MongoSettings = MongoSettings()
    kafka: KafkaSettings = KafkaSettings()
    log: ObservabilitySettings = ObservabilitySettings()
    api: ApiOptions = ApiOptions()

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> Self:
        refuse_dev_secrets(
            self.env,
            {
                "S3_SECRET_KEY": self.s3.secret_key.get_secret_value(),
                "API_CURSOR_SECRET": self.api.cursor_secret.get_secret_value(),
            },
        )
        return self
