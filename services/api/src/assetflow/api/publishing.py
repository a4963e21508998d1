"""The API's Kafka publisher: tag commands, annotation facts, job commands."""

import asyncio
from collections.abc import Sequence

from aiokafka.errors import KafkaError

from assetflow.contracts.commands import CreateSnapshot, ImportZip
from assetflow.contracts.errors import BrokerUnavailableError
from assetflow.contracts.events import AnnotationsChanged, ChangeSplit, ChangeTags
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.producer import BrokerProducer, publish_asset_events
from assetflow.platform.settings import KafkaSettings

SERVICE = "api"


class Publisher:
    """Publishes commands and facts on ``assets.objects``; connects to Kafka on first use,
    so reads never need Kafka."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._broker = make_kafka_broker(settings, client_id="assetflow-api")
        self._producer = BrokerProducer(self._broker, settings.topics)
        self._connected = False
        self._lock = asyncio.Lock()

    async def publish(
        self, messages: Sequence[ChangeTags | ChangeSplit | AnnotationsChanged]
    ) -> None:
        """Send every message and wait until Kafka has all of them durably."""
        try:
            await self._connect()
            await publish_asset_events(self._producer, SERVICE, messages)
        except (KafkaError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot publish to Kafka: {exc}") from exc

    async def send_command(self, dataset_id: str, command: CreateSnapshot | ImportZip) -> None:
        """Publish a command on the commands topic, keyed by dataset; waits until durable."""
        try:
            await self._connect()
            future = await self._producer.send(
                self._producer.topics.commands,
                command.model_dump_json().encode(),
                key=dataset_id.encode(),
                headers={"type": command.type},
            )
            await future
        except (KafkaError, OSError) as exc:
            raise BrokerUnavailableError(f"cannot publish to Kafka: {exc}") from exc

    async def _connect(self) -> None:
        async with self._lock:
            if not self._connected:
                await self._broker.connect()
                self._connected = True

    async def close(self) -> None:
        """Flush and disconnect."""
        if self._connected:
            await self._broker.stop()
