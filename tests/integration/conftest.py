"""Fixtures for tests of one component against the real local stack."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.readmodel.migrations import migrate
from tests.support.stack import MONGO_URL, prepare_test_lane


@pytest.fixture(scope="session", autouse=True)
def test_lane() -> None:
    """The test topics and buckets exist before any test uses them."""
    prepare_test_lane()


@pytest_asyncio.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A fresh, migrated database on the real server; dropped afterwards."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    database = client[f"assetflow_it_{uuid.uuid4().hex[:8]}"]
    await migrate(database)
    try:
        yield database
    finally:
        await client.drop_database(database.name)
        await client.close()
