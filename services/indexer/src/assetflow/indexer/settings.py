"""indexer settings: the service base, S3 and MongoDB, plus batch sizing (env ``INDEXER_*``)."""

from pydantic import Field

from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings, WithMongo, WithS3


class IndexerOptions(ConsumerOptions):
    """Batch sizing plus the sampled counter check (env ``INDEXER_*``)."""

    drift_check_interval_s: float = Field(
        default=60.0, gt=0, description="period of the sampled tag-counter drift check"
    )
    reconcile_interval_s: float = Field(
        default=0.0, ge=0, description="bucket-vs-index sweep period; 0 turns it off"
    )


class IndexerSettings(ServiceSettings, WithMongo, WithS3):
    """Everything the indexer reads from the environment."""

    indexer: IndexerOptions = IndexerOptions()
