"""indexer settings: shared sections plus batch sizing (env ``INDEXER_*``)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.consuming import ConsumerOptions
from assetflow.common.settings import (
    KafkaSettings,
    MongoSettings,
    ObservabilitySettings,
    S3Settings,
)


class IndexerOptions(ConsumerOptions):
    """Batch sizing plus the sampled counter check (env ``INDEXER_*``)."""

    drift_check_interval_s: float = Field(default=60.0, gt=0)
    reconcile_interval_s: float = Field(
        default=0.0, ge=0, description="bucket-vs-index sweep period; 0 turns it off"
    )


class IndexerSettings(BaseSettings):
    """Everything the indexer reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    s3: S3Settings = S3Settings()
    log: ObservabilitySettings = ObservabilitySettings()
    indexer: IndexerOptions = IndexerOptions()
