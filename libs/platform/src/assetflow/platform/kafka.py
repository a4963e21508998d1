"""The Kafka broker every service uses; built in its composition root."""

import logging

from faststream.kafka import KafkaBroker

from assetflow.platform.settings import KafkaSettings


def make_kafka_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker whose producer waits for every in-sync replica."""
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        # Our structured root handler, and per-message "Received/Processed" only at DEBUG.
        logger=logging.getLogger("faststream.broker"),
        log_level=logging.DEBUG,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
