"""Object storage clients: the aioboto3 session, client arguments, our presigner; called from
a service's composition root, never at import time."""

from typing import TYPE_CHECKING, Any

from assetflow.platform.settings import S3Settings
from assetflow.storage.presign import Presigner
from assetflow.storage.timing import instrument_storage

if TYPE_CHECKING:
    import aioboto3


def make_s3_session() -> "aioboto3.Session":
    """An aioboto3 session (storage requests timed); open clients with ``s3_client_kwargs``."""
    # Imported here: aioboto3 (with aiohttp) adds ~16 MB of RSS, and the snapshotter, which
    # uses blocking boto3 only, should not carry it.
    import aioboto3

    session = aioboto3.Session()
    instrument_storage(session.events)
    return session


def make_presigner(settings: S3Settings, *, public: bool = False) -> Presigner:
    """Our SigV4 presigner for the configured endpoint (``public``: the one clients reach)."""
    return Presigner(
        endpoint_url=(settings.public_endpoint_url or settings.endpoint_url)
        if public
        else settings.endpoint_url,
        access_key=settings.access_key,
        secret_key=settings.secret_key.get_secret_value(),
        region=settings.region,
    )


def s3_client_kwargs(
    settings: S3Settings, max_pool_connections: int = 10, *, public: bool = False
) -> dict[str, Any]:
    """Arguments for ``session.client('s3', **kwargs)`` against the configured endpoint.

    ``max_pool_connections`` should cover the requests a service keeps in flight at once;
    ``public`` targets the endpoint clients reach (for presigned URLs).
    """
    from botocore.config import Config

    return {
        "endpoint_url": (settings.public_endpoint_url or settings.endpoint_url)
        if public
        else settings.endpoint_url,
        "aws_access_key_id": settings.access_key,
        "aws_secret_access_key": settings.secret_key.get_secret_value(),
        "region_name": settings.region,
        "config": Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=max_pool_connections,
        ),
    }
