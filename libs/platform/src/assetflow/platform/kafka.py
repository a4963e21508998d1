"""The Kafka broker every service uses; built in its composition root."""

import logging

from faststream.kafka import KafkaBroker

from assetflow.platform.settings import KafkaSettings


def make_kafka_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """A FastStream Kafka broker whose producer waits for every in-sync replica."""
    # A list: FastStream hands a string to aiokafka as a one-item list, which aiokafka does
    # not split at commas, so "b1:9092,b2:9092" would be one unresolvable host.
    servers = [server.strip() for server in settings.bootstrap_servers.split(",")]
    return KafkaBroker(
        servers,
        client_id=client_id,
        # Our structured root handler, and per-message "Received/Processed" only at DEBUG.
        logger=logging.getLogger("faststream.broker"),
        log_level=logging.DEBUG,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
    )
