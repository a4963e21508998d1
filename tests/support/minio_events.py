"""Build bucket notifications in exactly the shape MinIO publishes to Kafka."""

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus


def minio_record(
    key: str,
    *,
    event_name: str = "s3:ObjectCreated:Put",
    bucket: str = "datasets",
    size: int = 1234,
    etag: str = "0123456789abcdef0123456789abcdef",
    content_type: str = "image/jpeg",
    sequencer: str | None = None,
    event_time: datetime | None = None,
) -> dict[str, Any]:
    """One S3 event record as MinIO builds it (key URL-encoded like Go's url.QueryEscape)."""
    now = event_time or datetime.now(UTC)
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe=""),
        "sequencer": sequencer or f"{time.time_ns():X}",
    }
    if event_name.startswith("s3:ObjectCreated:"):
        obj |= {
            **({"size": size} if size else {}),  # MinIO omits a zero size (omitempty)
            "eTag": etag,
            "contentType": content_type,
            "userMetadata": {"content-type": content_type},
        }
    return {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "awsRegion": "",
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "minioadmin"},
        "requestParameters": {
            "principalId": "minioadmin",
            "region": "",
            "sourceIPAddress": "127.0.0.1",
        },
        "responseElements": {
            "x-amz-id-2": "dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8",
            "x-amz-request-id": "187A2B3C4D5E6F70",
            "x-minio-deployment-id": "3c0ea4a4-7d3c-4c2b-9a0e-8e2b1f8a9d6e",
            "x-minio-origin-endpoint": "http://127.0.0.1:9000",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "Config",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "minioadmin"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
        "source": {"host": "127.0.0.1", "port": "", "userAgent": "assetflow-tests"},
    }


def minio_message(*records: dict[str, Any]) -> bytes:
    """The Kafka message value MinIO publishes for one notification."""
    first = records[0]
    key = f"{first['s3']['bucket']['name']}/{first['s3']['object']['key']}"
    return json.dumps(
        {"EventName": first["eventName"], "Key": key, "Records": list(records)}
    ).encode()
