"""The services' Kafka broker: every listed bootstrap server reaches aiokafka."""

from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.settings import KafkaSettings


def test_comma_separated_bootstrap_servers_are_separate_hosts() -> None:
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:29092, 127.0.0.1:29093,127.0.0.1:29094")
    broker = make_kafka_broker(settings, "test")
    kwargs = broker._connection_kwargs
    assert kwargs["bootstrap_servers"] == ["127.0.0.1:29092", "127.0.0.1:29093", "127.0.0.1:29094"]
    assert (kwargs["acks"], kwargs["enable_idempotence"]) == ("all", True)
