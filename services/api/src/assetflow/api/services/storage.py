"""Stored objects read in chunks: memory stays constant whatever the file's size."""

from collections.abc import AsyncIterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

CHUNK = 256 * 1024


async def body_chunks(body: Any) -> AsyncIterator[bytes]:
    """A storage response's body, chunk by chunk; closed when done or abandoned."""
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()


async def object_chunks(s3: Any, bucket: str, key: str) -> AsyncIterator[bytes]:
    """An object's bytes, chunk by chunk; nothing if it is gone (deleted since listed)."""
    try:
        stored = await s3.get_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError):
        return  # deleted since it was listed: an empty entry, the stream goes on
    body = stored["Body"]
    try:
        async for chunk in body.iter_chunks(CHUNK):
            yield chunk
    finally:
        body.close()
