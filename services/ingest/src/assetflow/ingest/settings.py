"""ingest settings: the service base plus batch sizing (env ``INGEST_*``)."""

from pydantic import Field

from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings


class IngestOptions(ConsumerOptions):
    """Batch sizing plus the duplicate window (env ``INGEST_*``)."""

    duplicate_window: int = Field(
        default=100_000,
        ge=0,
        description="object events remembered to drop a notification's second copy "
        "(MinIO notifies two targets); 0: off",
    )


class IngestSettings(ServiceSettings):
    """Everything ingest reads from the environment."""

    ingest: IngestOptions = IngestOptions()
