"""Client factories; called from each service's composition root, never at import time."""

import logging
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient, MongoClient

from assetflow.common.clientmetrics import CommandMetrics, instrument_storage
from assetflow.common.presign import Presigner
from assetflow.common.settings import KafkaSettings, MongoSettings, S3Settings

if TYPE_CHECKING:
    import aioboto3


def make_mongo_client(settings: MongoSettings) -> AsyncMongoClient[dict[str, Any]]:
    """PyMongo's native async client with bounded timeouts."""
    return AsyncMongoClient(
        settings.url,
        serverSelectionTimeoutMS=settings.timeout_ms,
        connectTimeoutMS=settings.timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
        event_listeners=[CommandMetrics()],
    )


def make_sync_mongo_client(settings: MongoSettings) -> MongoClient[dict[str, Any]]:
    """PyMongo's blocking client, configured like ``make_mongo_client``: for work that runs in
    a worker thread (the snapshotter's jobs write zip files synchronously)."""
    return MongoClient(
        settings.url,
        serverSelectionTimeoutMS=settings.timeout_ms,
        connectTimeoutMS=settings.timeout_ms,
        tz_aware=True,
        uuidRepresentation="standard",
        event_listeners=[CommandMetrics()],
    )


def make_s3_session() -> "aioboto3.Session":
    """An aioboto3 session (storage requests timed); open clients with ``s3_client_kwargs``."""
    # Imported here: aioboto3 (with aiohttp) adds ~16 MB of RSS, and the snapshotter, which
    # uses blocking boto3 only, should not carry it.
    import aioboto3

    session = aioboto3.Session()
    instrument_storage(session.events)
    return session


def make_presigner(settings: S3Settings, *, public: bool = False) -> Presigner:
    """Our SigV4 presigner for the configured endpoint (``public``: the one clients reach)."""
    return Presigner(
        endpoint_url=(settings.public_endpoint_url or settings.endpoint_url)
        if public
        else settings.endpoint_url,
        access_key=settings.access_key,
        secret_key=settings.secret_key.get_secret_value(),
        region=settings.region,
    )


def s3_client_kwargs(
    settings: S3Settings, max_pool_connections: int = 10, *, public: bool = False
) -> dict[str, Any]:
    """Arguments for ``session.client('s3', **kwargs)`` against the configured endpoint.

    ``max_pool_connections`` should cover the requests a service keeps in flight at once;
    ``public`` targets the endpoint clients reach (for presigned URLs).
    """
    from botocore.config import Config

    return {
        "endpoint_url": (settings.public_endpoint_url or settings.endpoint_url)
        if public
        else settings.endpoint_url,
        "aws_access_key_id": settings.access_key,
        "aws_secret_access_key": settings.secret_key.get_secret_value(),
        "region_name": settings.region,
        "config": Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=max_pool_connections,
        ),
    }


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
