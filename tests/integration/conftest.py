"""Fixtures for tests of one component against the real local stack."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from assetflow.indexer.indexes import ensure_indexes
from tests.support.stack import MONGO_URL


@pytest_asyncio.fixture
async def images() -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    """A fresh, indexed images collection in the real database; dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    collection = client["assetflow_it"][f"images_{uuid.uuid4().hex[:8]}"]
    await ensure_indexes(collection)
    try:
        yield collection
    finally:
        await collection.drop()
        await client.close()
