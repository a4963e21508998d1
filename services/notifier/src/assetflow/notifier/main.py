"""Composition root of the notifier: broker, database, the fact subscribers, the sender,
HTTP probes."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from faststream import ContextRepo
from faststream.asgi import AsgiFastStream

from assetflow.domain.webhooks import SecretBox
from assetflow.notifier.observability import ATTEMPTS, DELIVERIES
from assetflow.notifier.outbox import SERVICE, NotifierContext, enqueue_batch
from assetflow.notifier.sending import Sender
from assetflow.notifier.settings import NotifierSettings
from assetflow.notifier.signing import USER_AGENT
from assetflow.notifier.store import MongoWebhookStore
from assetflow.notifier.transport import checked_transport
from assetflow.platform.consuming import WORK_CONTEXT, consumer_app, subscribe_batches
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.logs import configure_logging
from assetflow.platform.producer import BrokerProducer
from assetflow.readmodel.migrations import migrate
from assetflow.readmodel.mongo import make_mongo_client


def create_app(settings: NotifierSettings | None = None) -> AsgiFastStream:
    """Build the notifier; nothing connects until it starts."""
    settings = settings or NotifierSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)
    options = settings.notifier
    box = SecretBox(settings.webhooks.secret_keys)  # a bad key fails here, not per delivery
    # Zero series from the start: an alert or panel on failures sees 0, not "no data".
    for outcome in ("delivered", "failed"):
        DELIVERIES.labels(outcome)
    for outcome in ("success", "retry", "refused"):
        ATTEMPTS.labels(outcome)

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        mongo = make_mongo_client(settings.mongo)
        transport = checked_transport(
            allow_private=settings.webhooks.allow_private_targets,
            timeout_s=options.timeout_s,
            max_connections=options.concurrency,
        )
        client = httpx.AsyncClient(
            transport=transport,
            timeout=options.timeout_s,
            follow_redirects=False,  # a redirect could lead anywhere: it is the answer
            headers={"User-Agent": USER_AGENT},
        )
        sender_task = None
        try:
            db = mongo[settings.mongo.db]
            await migrate(db)
            sender = Sender(db, box, client, options)
            ctx = NotifierContext(
                store=MongoWebhookStore(db), topics=settings.kafka.topics, wake=sender.wake
            )
            broker.context.set_global(WORK_CONTEXT, ctx)
            sender_task = asyncio.create_task(sender.run_forever())
            yield
        finally:
            if sender_task is not None:
                sender_task.cancel()
            await client.aclose()
            await mongo.close()

    # Both topics are keyed by dataset: a dataset's facts of each kind stay in order.
    for topic in (settings.kafka.topics.changes, settings.kafka.topics.snapshots):
        subscribe_batches(
            broker,
            service=SERVICE,
            topic=topic,
            group_id=settings.kafka.group_id(SERVICE),
            options=options,
            work=enqueue_batch,
            producer=producer,
        )
    return consumer_app(broker, SERVICE, settings.kafka, lifespan)
