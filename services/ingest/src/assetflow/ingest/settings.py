"""ingest settings: shared sections plus batch sizing (env ``INGEST_*``)."""

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.settings import KafkaSettings, ObservabilitySettings


class IngestOptions(BaseModel):
    """Batch sizing of the consumer."""

    batch_max_records: int = Field(default=500, ge=1, le=10_000)
    batch_timeout_ms: int = Field(default=100, ge=1)
    port: int = 8001


class IngestSettings(BaseSettings):
    """Everything ingest reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    log: ObservabilitySettings = ObservabilitySettings()
    ingest: IngestOptions = IngestOptions()
