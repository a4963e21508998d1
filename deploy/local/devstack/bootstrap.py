"""Create topics, buckets, the bucket notification and the database indexes (idempotent)."""

import asyncio
import os

from devstack import config

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{config.KAFKA_PORT}")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT_URL", f"http://127.0.0.1:{config.MINIO_PORT}")
MONGO_URL = os.environ.get("MONGO_URL", f"mongodb://127.0.0.1:{config.MONGO_PORT}")
MONGO_DB = os.environ.get("MONGO_DB", "assetflow")
TOPIC_PREFIX = os.environ.get("KAFKA_TOPIC_PREFIX", "")


def create_topics(prefix: str = TOPIC_PREFIX) -> list[str]:
    """Create the project's topics (behind ``prefix``) with their partition counts."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from assetflow.contracts.topics import Topics

    wanted = Topics(prefix).partitions()

    async def run() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [name for name in wanted if name not in existing]
            if missing:
                await admin.create_topics(
                    [NewTopic(name, wanted[name], replication_factor=1) for name in missing]
                )
            return missing
        finally:
            await admin.close()

    return asyncio.run(run())


def configure_buckets(
    datasets: str = config.NOTIFYING_BUCKET,
    thumbnails: str = "thumbnails",
    arn: str = config.NOTIFY_ARN,
) -> None:
    """Create the buckets and route the datasets bucket's object events to a Kafka target."""
    import boto3
    from botocore.config import Config

    s3 = boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT,
        aws_access_key_id=config.S3_ACCESS_KEY,
        aws_secret_access_key=config.S3_SECRET_KEY,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (datasets, thumbnails):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=datasets,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "assetflow-objects",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )


def migrate_database(url: str = MONGO_URL, db: str = MONGO_DB) -> list[str]:
    """Ensure the read models' indexes (the services do the same at start)."""
    from pymongo import AsyncMongoClient

    from assetflow.readmodel.migrations import migrate

    async def run() -> list[str]:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            url, serverSelectionTimeoutMS=5000
        )
        try:
            return await migrate(client[db])  # type: ignore[arg-type]
        finally:
            await client.close()

    return asyncio.run(run())
