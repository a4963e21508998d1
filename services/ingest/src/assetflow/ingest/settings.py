"""ingest settings: the service base plus batch sizing (env ``INGEST_*``)."""

from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    """Everything ingest reads from the environment."""

    ingest: ConsumerOptions = ConsumerOptions()
