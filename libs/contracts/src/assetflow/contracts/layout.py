"""The bucket layout ``<dataset_id>/images/<path>`` and the identifiers derived from it."""

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import unquote_plus

IMAGES_SEGMENT = "images"
IMAGES_COLLECTION = "images"
"""The MongoDB collection the indexer writes and the API reads."""


@dataclass(frozen=True, slots=True)
class ObjectLocation:
    """Where an image object sits in the dataset layout."""

    dataset_id: str
    path: str
    folder: str
    file_name: str


def decode_event_key(raw_key: str) -> str:
    """Decode an S3/MinIO event record key (Go ``url.QueryEscape``: space is ``+``)."""
    return unquote_plus(raw_key, encoding="utf-8", errors="strict")


def parse_object_key(key: str) -> ObjectLocation | None:
    """Split ``<dataset_id>/images/<path>``; ``None`` for keys outside the layout."""
    dataset_id, sep, rest = key.partition("/")
    if not sep or not dataset_id:
        return None
    segment, sep, path = rest.partition("/")
    if segment != IMAGES_SEGMENT or not sep or not path or path.endswith("/"):
        return None
    folder, _, file_name = path.rpartition("/")
    return ObjectLocation(dataset_id=dataset_id, path=path, folder=folder, file_name=file_name)


def object_key(dataset_id: str, path: str) -> str:
    """The object key of an image at ``path`` in ``dataset_id``."""
    return f"{dataset_id}/{IMAGES_SEGMENT}/{path}"


def image_id(bucket: str, key: str) -> str:
    """Deterministic, URL-safe document id for an object (128-bit BLAKE2b, base64url)."""
    digest = hashlib.blake2b(f"{bucket}/{key}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def message_key(bucket: str, key: str) -> bytes:
    """Kafka message key that keeps every event of one object on one partition."""
    return f"{bucket}/{key}".encode()
