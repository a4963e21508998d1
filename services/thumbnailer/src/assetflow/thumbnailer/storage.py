"""Reading originals from and writing renditions to object storage: a port and its S3 adapter."""

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiohttp import ClientError as HttpClientError
from botocore.exceptions import BotoCoreError, ClientError

from assetflow.contracts.errors import StorageUnavailableError
from assetflow.thumbnailer.rendering import Encoded, Source

CACHE_CONTROL = "public, max-age=31536000, immutable"
READ_CHUNK = 1 << 20
_GONE = {"NoSuchKey", "PreconditionFailed", "404", "412"}
# Errors of the connection rather than of the request: worth retrying.
_NETWORK_ERRORS = (BotoCoreError, HttpClientError, asyncio.TimeoutError, OSError)


class VersionGoneError(Exception):
    """The object version an event names was deleted or overwritten since."""


@dataclass(frozen=True, slots=True)
class Original:
    """An original's bytes in memory, or the path of its spooled copy, its size, and the
    sha256 of its bytes (hex), computed as they streamed in."""

    source: Source
    size: int
    sha256: str


def rendition_prefix(dataset_id: str, image_id: str) -> str:
    """Folder holding every rendition of one object, for all of its versions."""
    return f"{dataset_id}/{image_id}/"


def rendition_key(dataset_id: str, image_id: str, etag: str, name: str) -> str:
    """Content-addressed key: a new version (etag) never overwrites an old URL's bytes."""
    return f"{rendition_prefix(dataset_id, image_id)}{etag}/{name}"


@contextmanager
def spool_directory(root: str | None) -> Iterator[Path]:
    """A private directory for spooled originals, removed with whatever is left in it."""
    with tempfile.TemporaryDirectory(prefix="assetflow-thumbnailer-", dir=root) as path:
        yield Path(path)


class ObjectStorage(Protocol):
    """What the thumbnailer's batch logic needs of object storage (tests use a fake).

    Every method raises StorageUnavailableError when storage cannot serve it now.
    """

    async def get_original(self, bucket: str, key: str, etag: str) -> Original:
        """Exactly the version with ``etag``; raises VersionGoneError if it no longer exists.

        Its sha256 is computed while the bytes arrive (never a second read). The caller
        hands the result to ``discard`` once it is decoded.
        """
        ...

    async def put_rendition(self, bucket: str, key: str, rendition: Encoded) -> None:
        """Write one rendition, immutable (its key changes with its content)."""
        ...

    async def delete_renditions(self, bucket: str, prefix: str, keep: str | None = None) -> int:
        """Delete every key under ``prefix`` except those under ``keep``; returns how many."""
        ...


@dataclass(frozen=True, slots=True)
class S3Storage:
    """ObjectStorage over an aioboto3 S3 client; large originals are spooled to ``spool_dir``."""

    s3: Any
    spool_dir: Path
    spool_bytes: int

    async def get_original(self, bucket: str, key: str, etag: str) -> Original:
        """Download exactly the version with ``etag``, hashing it (sha256) chunk by chunk as
        it streams in; large files go to a temp file.

        Raises VersionGoneError when that version no longer exists, StorageUnavailableError
        when storage cannot serve it now. The caller deletes a spooled file (``discard``).
        """
        try:
            response = await self.s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)
            size = int(response.get("ContentLength") or 0)
            body = response["Body"]
            async with body:  # releases the connection (its __aenter__ yields the raw response)
                if size <= self.spool_bytes:
                    data, digest = await _read(body)
                    return Original(data, size, digest)
                path, digest = await _spool(body, self.spool_dir)
                return Original(path, size, digest)
        except ClientError as exc:
            if _error_code(exc) in _GONE:
                raise VersionGoneError(f"{bucket}/{key} etag {etag}") from exc
            raise StorageUnavailableError(f"reading {bucket}/{key}: {exc}") from exc
        except _NETWORK_ERRORS as exc:
            raise StorageUnavailableError(f"reading {bucket}/{key}: {exc!r}") from exc

    async def put_rendition(self, bucket: str, key: str, rendition: Encoded) -> None:
        """Write one rendition with immutable caching (its key changes with the content)."""
        try:
            await self.s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=rendition.data,
                ContentType=rendition.content_type,
                CacheControl=CACHE_CONTROL,
            )
        except (ClientError, *_NETWORK_ERRORS) as exc:
            raise StorageUnavailableError(f"writing {bucket}/{key}: {exc!r}") from exc

    async def delete_renditions(self, bucket: str, prefix: str, keep: str | None = None) -> int:
        """Delete every key under ``prefix`` except those under ``keep``; returns how many."""
        try:
            doomed: list[str] = []
            paginator = self.s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                doomed.extend(
                    item["Key"]
                    for item in page.get("Contents", [])
                    if keep is None or not item["Key"].startswith(keep)
                )
            for start in range(0, len(doomed), 1000):  # DeleteObjects takes up to 1000 keys
                chunk = doomed[start : start + 1000]
                response = await self.s3.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
                if errors := response.get("Errors"):
                    raise StorageUnavailableError(f"deleting {bucket}/{prefix}: {errors[0]}")
        except (ClientError, *_NETWORK_ERRORS) as exc:
            raise StorageUnavailableError(f"deleting {bucket}/{prefix}: {exc!r}") from exc
        return len(doomed)


async def _read(body: Any) -> tuple[bytes, str]:
    """The whole body in memory and its sha256, hashed chunk by chunk as it arrives.

    Hashing a 1 MiB chunk takes ~2 ms: cheap enough inline, as reading it is.
    """
    digest = hashlib.sha256()
    chunks = []
    while chunk := await body.read(READ_CHUNK):
        digest.update(chunk)
        chunks.append(chunk)
    return b"".join(chunks), digest.hexdigest()


async def _spool(body: Any, spool_dir: Path) -> tuple[Path, str]:
    """The body written to a temp file and its sha256, hashed as each chunk is written."""
    fd, name = tempfile.mkstemp(dir=spool_dir, suffix=".original")
    path = Path(name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as file:

            def write(chunk: bytes) -> None:
                digest.update(chunk)  # off the event loop, with the write
                file.write(chunk)

            while chunk := await body.read(READ_CHUNK):
                await asyncio.to_thread(write, chunk)
    except BaseException:
        await asyncio.to_thread(path.unlink, True)
        raise
    return path, digest.hexdigest()


def discard(original: Original) -> None:
    """Delete a spooled copy; in-memory originals need nothing."""
    if isinstance(original.source, Path):
        original.source.unlink(missing_ok=True)


def _error_code(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code") or status)
