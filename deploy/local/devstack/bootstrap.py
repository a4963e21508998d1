"""Create topics, buckets, the bucket notification and the database indexes (idempotent)."""

import asyncio
import os
import sys
from typing import Any

from devstack import config

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{config.KAFKA_PORT}")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT_URL", f"http://127.0.0.1:{config.MINIO_PORT}")
MONGO_URL = os.environ.get("MONGO_URL", f"mongodb://127.0.0.1:{config.MONGO_PORT}")
MONGO_DB = os.environ.get("MONGO_DB", "assetflow")
TOPIC_PREFIX = os.environ.get("KAFKA_TOPIC_PREFIX", "")


def create_topics(
    prefix: str = TOPIC_PREFIX, servers: str = KAFKA, replication: int = 1
) -> list[str]:
    """Create the project's topics (behind ``prefix``) with their partition counts."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from assetflow.contracts.topics import Topics

    wanted = Topics(prefix).partitions()

    async def run() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=servers)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [name for name in wanted if name not in existing]
            if missing:
                await admin.create_topics(
                    [NewTopic(name, wanted[name], replication) for name in missing]
                )
            return missing
        finally:
            await admin.close()

    return asyncio.run(run())


def configure_buckets(
    datasets: str = config.NOTIFYING_BUCKET,
    thumbnails: str = "thumbnails",
    arn: str = config.NOTIFY_ARN,
    endpoint: str = S3_ENDPOINT,
    immediate_arn: str | None = config.NOTIFY_IMMEDIATE_ARN,
) -> None:
    """Create the buckets and route the datasets bucket's object events to the durable Kafka
    target and the immediate one (components.MINIO says why two)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=config.S3_ACCESS_KEY,
        aws_secret_access_key=config.S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (datasets, thumbnails):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    arns = (arn, immediate_arn) if immediate_arn else (arn,)
    try:
        s3.put_bucket_notification_configuration(
            Bucket=datasets, NotificationConfiguration=notification(*arns)
        )
    except ClientError as exc:
        if len(arns) == 1 or exc.response.get("Error", {}).get("Code") != "InvalidArgument":
            raise
        # A MinIO started without the immediate target (before it existed, or one run
        # elsewhere): the durable one alone still loses nothing, 0-3 s later.
        print(
            f"[devstack] MinIO has no target {immediate_arn} ({exc}); {datasets} notifies "
            f"{arn} alone, through its queue directory (restart MinIO to pick up both)",
            file=sys.stderr,
        )
        s3.put_bucket_notification_configuration(
            Bucket=datasets, NotificationConfiguration=notification(arn)
        )


def notification(*arns: str) -> dict[str, Any]:
    """A bucket notification configuration sending object events to each of ``arns``."""
    events = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    return {
        "QueueConfigurations": [
            {"Id": "assetflow-objects" + (f"-{n}" if n else ""), "QueueArn": arn, "Events": events}
            for n, arn in enumerate(arns)
        ]
    }


def migrate_database(url: str = MONGO_URL, db: str = MONGO_DB) -> list[str]:
    """Ensure the read models' indexes (the services do the same at start)."""
    from pymongo import AsyncMongoClient

    from assetflow.readmodel.migrations import migrate

    async def run() -> list[str]:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000
        )
        try:
            return await migrate(client[db])
        finally:
            await client.close()

    return asyncio.run(run())
