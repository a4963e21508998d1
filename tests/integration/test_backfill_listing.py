"""Backfill's view of a real MinIO bucket: listing pages with user metadata, and HEAD fallback."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from assetflow.contracts.events import ObjectCreated
from assetflow.indexer.backfill import (
    USER_METADATA,
    created_event,
    listing_pages,
    with_upload_tags,
)
from assetflow.platform.settings import S3Settings
from assetflow.storage.clients import make_s3_session, s3_client_kwargs
from tests.support.stack import BUCKET


@pytest_asyncio.fixture
async def s3() -> AsyncIterator[Any]:
    async with make_s3_session().client("s3", **s3_client_kwargs(S3Settings())) as client:
        yield client


async def listed(s3: Any, prefix: str, metadata: bool = True) -> list[dict[str, Any]]:
    pages = listing_pages(s3, BUCKET, prefix, None, metadata=metadata)
    return [obj async for page in pages for obj in page]


@pytest.mark.asyncio
async def test_listing_pages_carry_each_objects_upload_tags(s3: Any) -> None:
    prefix = f"bf-{uuid.uuid4().hex[:8]}/"
    # Keys that need URL-encoding in a listing: metadata is matched by position, not key.
    tagged = {f"{prefix}images/a b+c%.jpg": "Cat,d%C3%B6g", f"{prefix}images/ü/2.jpg": "bird"}
    for key, tags in tagged.items():
        await s3.put_object(Bucket=BUCKET, Key=key, Body=b"x", Metadata={"tags": tags})
    await s3.put_object(Bucket=BUCKET, Key=f"{prefix}images/plain.jpg", Body=b"x")

    objects = await listed(s3, prefix)

    assert all(USER_METADATA in obj for obj in objects)
    events = {obj["Key"]: created_event(BUCKET, obj) for obj in objects}
    tags = {key: event.tags for key, event in events.items() if event is not None}
    assert tags == {
        f"{prefix}images/a b+c%.jpg": ["cat", "dög"],
        f"{prefix}images/ü/2.jpg": ["bird"],
        f"{prefix}images/plain.jpg": [],
    }


@pytest.mark.asyncio
async def test_head_fallback_reads_tags_of_the_listed_version_only(s3: Any) -> None:
    prefix = f"bf-{uuid.uuid4().hex[:8]}/"
    keys = [f"{prefix}images/{name}.jpg" for name in ("kept", "replaced", "deleted")]
    for key in keys:
        await s3.put_object(Bucket=BUCKET, Key=key, Body=b"v1", Metadata={"tags": "old"})
    objects = await listed(s3, prefix, metadata=False)  # as the periodic sweep lists
    assert not any(USER_METADATA in obj for obj in objects)
    events: list[Any] = [created_event(BUCKET, obj) for obj in objects]
    assert all(isinstance(e, ObjectCreated) and not e.tags for e in events)
    # After the listing: one object replaced (its own event will carry its tags), one deleted.
    await s3.put_object(Bucket=BUCKET, Key=keys[1], Body=b"v2", Metadata={"tags": "new"})
    await s3.delete_object(Bucket=BUCKET, Key=keys[2])

    result = await with_upload_tags(s3, events, {e.key for e in events})

    assert {e.key: e.tags for e in result} == {keys[0]: ["old"], keys[1]: [], keys[2]: []}
