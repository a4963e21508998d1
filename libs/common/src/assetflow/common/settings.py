"""Settings sections shared by every service; each can be overridden by environment."""

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from assetflow.common.topics import Topics

DEV_SECRETS = frozenset({"minioadmin", "changeme", "dev-cursor-secret"})


class KafkaSettings(BaseModel):
    """Kafka connection (env ``KAFKA_*``)."""

    bootstrap_servers: str = "127.0.0.1:9092"
    group_prefix: str = Field(
        default="assetflow", description="consumer groups are '<prefix>.<service>'"
    )
    topic_prefix: str = Field(default="", description="prepended to every topic name")
    lag_interval_s: float = Field(
        default=10.0, gt=0, description="how often consumer lag is sampled"
    )

    @property
    def topics(self) -> Topics:
        """The topic names this deployment uses."""
        return Topics(self.topic_prefix)

    def group_id(self, service: str) -> str:
        """Consumer group for a service."""
        return f"{self.group_prefix}.{service}"


class S3Settings(BaseModel):
    """Object storage (env ``S3_*``)."""

    endpoint_url: str = "http://127.0.0.1:9000"
    public_endpoint_url: str | None = Field(
        default=None, description="host clients use for presigned URLs; defaults to endpoint_url"
    )
    access_key: str = "minioadmin"
    secret_key: SecretStr = SecretStr("minioadmin")
    region: str = "us-east-1"
    bucket: str = "datasets"
    thumbnails_bucket: str = "thumbnails"


class MongoSettings(BaseModel):
    """MongoDB or any MongoDB wire-compatible database (env ``MONGO_*``)."""

    url: str = "mongodb://127.0.0.1:27017"
    db: str = "assetflow"
    timeout_ms: int = 5000


class ObservabilitySettings(BaseModel):
    """Logging and metrics (env ``LOG_*``)."""

    level: str = "INFO"
    format: Literal["json", "text"] = "json"


def refuse_dev_secrets(env: str, secrets: dict[str, str]) -> None:
    """Raise if a well-known development secret is used in production."""
    from assetflow.common.errors import ConfigError

    if env != "production":
        return
    weak = sorted(name for name, value in secrets.items() if value in DEV_SECRETS)
    if weak:
        raise ConfigError(f"development secrets refused with ENV=production: {', '.join(weak)}")
