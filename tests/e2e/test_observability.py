"""What operators watch: consumer lag that a stopped consumer cannot hide, end-to-end latency."""

from typing import Any

import pytest

from tests.support import images
from tests.support.stack import TEST_GROUP_PREFIX, ServiceProcess, put_object, wait_for

INDEXER_GROUP = f"{TEST_GROUP_PREFIX}.indexer"


@pytest.mark.e2e
def test_lag_grows_while_the_indexer_is_stopped_and_returns_to_zero(
    services: dict[str, ServiceProcess], s3: Any, dataset_id: str
) -> None:
    ingest, indexer = services["ingest"], services["indexer"]

    def lag(what: str) -> float:  # as the ingest service reports the indexer's group
        return ingest.metric(f"assetflow_consumer_lag_{what}", group=INDEXER_GROUP)

    wait_for("no indexer lag to begin with", lambda: lag("messages") == 0, timeout=60)
    indexer.stop()
    try:
        for n in range(5):
            put_object(s3, f"{dataset_id}/images/{n}.jpg", images.jpeg(8, 8))
        wait_for("the lag reported", lambda: lag("messages") >= 5, timeout=60)
        wait_for("its age reported", lambda: lag("seconds") > 0, timeout=30)
    finally:
        indexer.start()
    wait_for("the indexer caught up", lambda: lag("messages") == 0, timeout=60)
    assert lag("seconds") == 0
    # The indexer measured how long each upload took from the storage event to its index.
    indexed = indexer.metric("assetflow_e2e_latency_seconds_count", stage="indexed")
    assert indexed >= 5
