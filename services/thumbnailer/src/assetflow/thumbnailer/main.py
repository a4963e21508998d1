"""Composition root of the thumbnailer: broker, S3 client, decode threads, subscriber."""

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager

from faststream import ContextRepo
from faststream.asgi import AsgiFastStream

from assetflow.platform.consuming import WORK_CONTEXT, consumer_app, subscribe_batches
from assetflow.platform.kafka import make_kafka_broker
from assetflow.platform.logs import configure_logging
from assetflow.platform.producer import BrokerProducer
from assetflow.storage.clients import make_s3_session, s3_client_kwargs
from assetflow.thumbnailer.processing import SERVICE, Thumbnailer, thumbnail_batch
from assetflow.thumbnailer.rendering import configure_libvips
from assetflow.thumbnailer.settings import ThumbnailerSettings
from assetflow.thumbnailer.storage import S3Storage, spool_directory

log = logging.getLogger(__name__)


def create_app(settings: ThumbnailerSettings | None = None) -> AsgiFastStream:
    """Build the thumbnailer application; nothing connects until it starts."""
    settings = settings or ThumbnailerSettings()
    configure_logging(SERVICE, settings.log.level, settings.log.format)
    options = settings.thumbnailer
    broker = make_kafka_broker(settings.kafka, client_id=f"assetflow-{SERVICE}")
    producer = BrokerProducer(broker, settings.kafka.topics)

    @asynccontextmanager
    async def lifespan(context: ContextRepo) -> AsyncIterator[None]:
        configure_libvips(options.vips_threads)
        async with AsyncExitStack() as stack:
            # One pooled client; each image in flight may hold a GET, two PUTs and a LIST.
            connections = max(10, 3 * options.max_in_flight)
            s3 = await stack.enter_async_context(
                make_s3_session().client("s3", **s3_client_kwargs(settings.s3, connections))
            )
            pool = stack.enter_context(
                ThreadPoolExecutor(options.workers, thread_name_prefix="render")
            )
            spool_dir = stack.enter_context(spool_directory(options.spool_dir))
            ctx = Thumbnailer(
                storage=S3Storage(s3, spool_dir=spool_dir, spool_bytes=options.spool_bytes),
                producer=producer,
                pool=pool,
                options=options,
                thumbnails_bucket=settings.s3.thumbnails_bucket,
                in_flight=asyncio.Semaphore(options.max_in_flight),
            )
            broker.context.set_global(WORK_CONTEXT, ctx)
            log.info(
                "thumbnailer ready",
                extra={"workers": options.workers, "in_flight": options.max_in_flight},
            )
            yield

    subscribe_batches(
        broker,
        service=SERVICE,
        topic=settings.kafka.topics.asset_objects,
        group_id=settings.kafka.group_id(SERVICE),
        options=options,
        work=thumbnail_batch,
        producer=producer,
    )
    return consumer_app(broker, SERVICE, settings.kafka, lifespan)
