"""Create topics, buckets and the bucket notification once the stack is up (idempotent)."""

import asyncio
import os

from devstack import config

KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{config.KAFKA_PORT}")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT_URL", f"http://127.0.0.1:{config.MINIO_PORT}")


def create_topics() -> list[str]:
    """Create the project's topics with their partition counts; returns the ones created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from assetflow.common.topics import PARTITIONS

    async def run() -> list[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [name for name in PARTITIONS if name not in existing]
            if missing:
                await admin.create_topics(
                    [NewTopic(name, PARTITIONS[name], replication_factor=1) for name in missing]
                )
            return missing
        finally:
            await admin.close()

    return asyncio.run(run())


def configure_buckets() -> None:
    """Create the buckets and route their object events to the Kafka target."""
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
    for bucket in config.BUCKETS:
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=config.NOTIFYING_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "assetflow-objects",
                    "QueueArn": config.NOTIFY_ARN,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
