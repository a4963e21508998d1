"""indexer settings: the service base, S3 and MongoDB, plus batch sizing (env ``INDEXER_*``)."""

from typing import Any

from pydantic import Field, model_validator

from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings, WithMongo, WithS3


class IndexerOptions(ConsumerOptions):
    """Batch sizing plus the sampled counter check (env ``INDEXER_*``)."""

    drift_check_interval_s: float = Field(
        default=60.0, gt=0, description="period of the sampled tag-counter drift check"
    )
    quota_report_interval_s: float = Field(
        default=15.0, gt=0, description="period of the datasets' usage-over-quota report"
    )
    sweep_interval_s: float = Field(
        default=0.0,
        ge=0,
        description="bucket-vs-index sweep period, 0: off (formerly INDEXER_RECONCILE_INTERVAL_S)",
    )

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        # The sweep was called "reconcile", like the counter recount: the old name still works.
        if isinstance(data, dict) and "reconcile_interval_s" in data:
            data = {k: v for k, v in data.items() if k != "reconcile_interval_s"} | {
                "sweep_interval_s": data.get("sweep_interval_s", data["reconcile_interval_s"])
            }
        return data


class IndexerSettings(ServiceSettings, WithMongo, WithS3):
    """Everything the indexer reads from the environment."""

    indexer: IndexerOptions = IndexerOptions()
