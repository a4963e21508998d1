"""indexer settings: shared sections plus batch sizing (env ``INDEXER_*``)."""

from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.consuming import ConsumerOptions
from assetflow.common.settings import KafkaSettings, MongoSettings, ObservabilitySettings


class IndexerSettings(BaseSettings):
    """Everything the indexer reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    log: ObservabilitySettings = ObservabilitySettings()
    indexer: ConsumerOptions = ConsumerOptions()
