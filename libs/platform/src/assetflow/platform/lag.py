"""Consumer lag of every assetflow consumer group, in messages and in seconds.

Every consuming service samples every group, not only its own: a stopped indexer cannot
report that it is behind, the others can. Series differ only by ``job``/``instance``;
dashboards and alerts take ``max by (group, topic, partition)``.
"""

import asyncio
import logging
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import Gauge

from assetflow.contracts.topics import CONSUMERS, PARTITIONS
from assetflow.platform.settings import KafkaSettings

log = logging.getLogger(__name__)
_LABELS = ["group", "topic", "partition"]
LAG_MESSAGES = Gauge(
    "assetflow_consumer_lag_messages",
    "Messages after the group's committed offset (high-water mark - committed)",
    _LABELS,
)
LAG_SECONDS = Gauge(
    "assetflow_consumer_lag_seconds",
    "Age of the oldest message the group has not committed (0 when caught up)",
    _LABELS,
)


async def sample_lag_forever(kafka: KafkaSettings) -> None:
    """Sample every group's lag every ``kafka.lag_interval_s``; Kafka outages only wait."""
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
        # Small fetches: only the first uncommitted message's timestamp is wanted (the broker
        # still returns one whole record batch).
        reader = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            max_partition_fetch_bytes=1024,
            fetch_max_bytes=1024,
        )
        try:
            await admin.start()
            await reader.start()
            while True:
                await sample_lag(admin, reader, kafka)
                await asyncio.sleep(kafka.lag_interval_s)
        except (KafkaError, OSError) as exc:
            log.warning("consumer lag: Kafka unavailable (%s)", exc)
        finally:
            await reader.stop()
            await admin.close()
        await asyncio.sleep(kafka.lag_interval_s)


async def sample_lag(
    admin: AIOKafkaAdminClient, reader: AIOKafkaConsumer, kafka: KafkaSettings
) -> None:
    """Set the gauges for each group of ``topics.CONSUMERS`` once."""
    for service, topic in CONSUMERS.items():
        group = kafka.group_id(service)
        name = kafka.topics.prefix + topic
        parts = [TopicPartition(name, p) for p in range(PARTITIONS[topic])]
        committed: dict[TopicPartition, Any] = await admin.list_consumer_group_offsets(group)
        ends = await reader.end_offsets(parts)
        starts = await reader.beginning_offsets(parts)
        for tp in parts:
            mark = committed.get(tp)
            # A group that never committed here starts from the earliest offset it could read.
            done = mark.offset if mark is not None and mark.offset >= 0 else starts[tp]
            lag = max(0, ends[tp] - done)
            age = await _age_of(reader, tp, done) if lag else 0.0
            labels = (group, name, str(tp.partition))
            LAG_MESSAGES.labels(*labels).set(lag)
            LAG_SECONDS.labels(*labels).set(age)


async def _age_of(reader: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> float:
    """Seconds since the message at ``offset`` was produced (0 if it cannot be read now)."""
    reader.assign([tp])
    reader.seek(tp, offset)
    batches = await reader.getmany(tp, timeout_ms=2000, max_records=1)
    records = batches.get(tp) or []
    return max(0.0, time.time() - records[0].timestamp / 1000) if records else 0.0
