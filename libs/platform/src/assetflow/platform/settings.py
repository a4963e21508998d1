"""The settings base of every service and the sections they share; all overridable by environment.

A service's settings class derives from ``ServiceSettings`` (``ENV``, ``KAFKA_*``, ``LOG_*`` and
the production secret check) and mixes in the sections it needs (``WithS3``, ``WithMongo``)
next to its own section (``API_*``, ``INDEXER_*``, ...). A variable is its section and field
joined by ``_``: ``S3_SECRET_KEY`` is ``s3.secret_key``. docs/configuration.md is generated from
these classes by deploy/config_table.py.
"""

from collections.abc import Iterator
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.contracts.topics import Topics

DEV_SECRETS = frozenset(
    {
        "minioadmin",
        "changeme",
        "dev-cursor-secret",
        "dev-share-secret",
        "YXNzZXRmbG93LWRldi13ZWJob29rcy1rZXktMDAwMDA=",  # domain.webhooks.DEV_KEY
    }
)
"""Secrets the local stack uses; refused with ``ENV=production``."""


class KafkaSettings(BaseModel):
    """Kafka connection (env ``KAFKA_*``)."""

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="brokers, comma-separated host:port"
    )
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

    endpoint_url: str = Field(
        default="http://127.0.0.1:9000", description="the S3 API the services call"
    )
    public_endpoint_url: str | None = Field(
        default=None, description="host clients use for presigned URLs; defaults to endpoint_url"
    )
    access_key: str = Field(default="minioadmin", description="access key id")
    secret_key: SecretStr = Field(default=SecretStr("minioadmin"), description="secret key")
    region: str = Field(default="us-east-1", description="signing region")
    bucket: str = Field(default="datasets", description="originals and snapshots")
    thumbnails_bucket: str = Field(default="thumbnails", description="thumbnails and previews")


class MongoSettings(BaseModel):
    """MongoDB or any MongoDB wire-compatible database (env ``MONGO_*``)."""

    url: str = Field(default="mongodb://127.0.0.1:27017", description="connection string")
    db: str = Field(default="assetflow", description="database name")
    timeout_ms: int = Field(default=5000, description="server selection and connect timeout")


class ObservabilitySettings(BaseModel):
    """Logging and metrics (env ``LOG_*``)."""

    level: str = Field(default="INFO", description="root log level")
    format: Literal["json", "text"] = Field(default="json", description="json, or text for humans")


class ServiceSettings(BaseSettings):
    """What every service reads (``ENV``, ``KAFKA_*``, ``LOG_*``); production refuses dev secrets.

    The check runs on construction and looks at every ``SecretStr`` of the settings, sections
    included, so a section a service mixes in is checked without the service doing anything.
    """

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = Field(
        default="local",
        description="local, or a deployment name; production refuses the well-known "
        "development secrets",
    )
    kafka: KafkaSettings = KafkaSettings()
    log: ObservabilitySettings = ObservabilitySettings()

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> Self:
        refuse_dev_secrets(
            self.env,
            {
                env_name(type(self), path): secret.get_secret_value()
                for path, secret in secret_fields(self)
            },
        )
        return self


class WithS3(BaseModel):
    """Mixin of a service's settings: object storage (``S3_*``)."""

    s3: S3Settings = S3Settings()


class WithMongo(BaseModel):
    """Mixin of a service's settings: the database (``MONGO_*``)."""

    mongo: MongoSettings = MongoSettings()


def env_name(settings: type[BaseSettings], path: tuple[str, ...]) -> str:
    """The environment variable of a field path, as pydantic-settings resolves it."""
    config = settings.model_config
    delimiter = config.get("env_nested_delimiter") or "_"
    name = config.get("env_prefix", "") + delimiter.join(path)
    return name if config.get("case_sensitive") else name.upper()


def secret_fields(
    model: BaseModel, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], SecretStr]]:
    """Every ``SecretStr`` set in a model and its nested sections, with its field path."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            yield (*path, name), value
        elif isinstance(value, BaseModel):
            yield from secret_fields(value, (*path, name))


def refuse_dev_secrets(env: str, secrets: dict[str, str]) -> None:
    """Raise if a well-known development secret is used in production."""
    from assetflow.contracts.errors import ConfigError

    if env != "production":
        return
    weak = sorted(name for name, value in secrets.items() if value in DEV_SECRETS)
    if weak:
        raise ConfigError(f"development secrets refused with ENV=production: {', '.join(weak)}")
