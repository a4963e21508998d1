"""ingest settings: shared sections plus batch sizing (env ``INGEST_*``)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.consuming import ConsumerOptions
from assetflow.common.settings import KafkaSettings, ObservabilitySettings


class IngestSettings(BaseSettings):
    """Everything ingest reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    log: ObservabilitySettings = ObservabilitySettings()
    ingest: ConsumerOptions = ConsumerOptions()
