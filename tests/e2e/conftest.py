"""The whole pipeline (ingest, indexer, thumbnailer, api) as real processes on the local stack."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient

from tests.support.stack import (
    MONGO_URL,
    TEST_DB,
    TEST_GROUP_PREFIX,
    ServiceProcess,
    prepare_test_lane,
    s3_client,
    skip_history,
)


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, ServiceProcess]]:
    """Start every service once for the session; stop them at the end."""
    with MongoClient(MONGO_URL) as client:
        client.drop_database(TEST_DB)
    prepare_test_lane()
    skip_history(TEST_GROUP_PREFIX)
    procs = {
        name: ServiceProcess(name)
        for name in ("indexer", "ingest", "thumbnailer", "snapshotter", "api")
    }
    try:
        for proc in procs.values():
            proc.start()
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()


@pytest.fixture(scope="session")
def s3() -> Any:
    """boto3 S3 client for MinIO."""
    return s3_client()


@pytest.fixture
def dataset_id() -> str:
    """A dataset no other test (or earlier run) uses."""
    return f"e2e-{uuid.uuid4().hex[:10]}"
