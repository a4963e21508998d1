"""Database and storage timings: labelled by what was asked, also when it failed."""

import pytest
from botocore.config import Config


def test_storage_timings_name_the_operation_even_when_the_endpoint_is_down() -> None:
    import asyncio

    from botocore.exceptions import EndpointConnectionError
    from prometheus_client import REGISTRY

    from assetflow.platform.settings import S3Settings
    from assetflow.storage.clients import make_s3_session, s3_client_kwargs

    async def head() -> None:
        settings = S3Settings(endpoint_url="http://127.0.0.1:9")  # nothing listens there
        kwargs = s3_client_kwargs(settings)
        kwargs["config"] = kwargs["config"].merge(Config(retries={"max_attempts": 1}))
        async with make_s3_session().client("s3", **kwargs) as s3:
            with pytest.raises(EndpointConnectionError):
                await s3.head_object(Bucket="b", Key="k")

    labels = {"operation": "HeadObject", "outcome": "error"}
    before = REGISTRY.get_sample_value("assetflow_storage_request_seconds_count", labels) or 0
    asyncio.run(head())
    after = REGISTRY.get_sample_value("assetflow_storage_request_seconds_count", labels)
    assert after == before + 1
