"""The snapshotter reads originals at exactly the manifest's version from the real MinIO."""

import os
import uuid

import pytest

from assetflow.contracts.errors import StorageUnavailableError
from assetflow.readmodel.snapshots import ManifestEntry
from assetflow.snapshotter.originals import Originals, SnapshotChangedError
from assetflow.storage.presign import Presigner
from tests.support.stack import BUCKET, S3_ACCESS_KEY, S3_ENDPOINT, S3_SECRET_KEY, s3_client


def _originals(endpoint: str = S3_ENDPOINT, secret: str = S3_SECRET_KEY) -> Originals:
    presigner = Presigner(endpoint_url=endpoint, access_key=S3_ACCESS_KEY, secret_key=secret)
    return Originals(presigner, BUCKET, connections=2)


def _stored(name: str, body: bytes) -> ManifestEntry:
    key = f"it-originals-{uuid.uuid4().hex[:8]}/images/{name}"
    etag = s3_client().put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"].strip('"')
    return ManifestEntry(path=name, image_id="i", key=key, etag=etag, size=len(body))


@pytest.mark.integration
def test_the_manifests_version_is_read_whole_or_in_chunks() -> None:
    small = _stored("cat (1).jpg", b"small original")
    large = _stored("big ünï.jpg", os.urandom(3 << 20))
    originals = _originals()
    try:
        assert originals.read(small) == b"small original"
        chunks = list(originals.chunks(large, 1 << 20))
        assert [len(c) for c in chunks] == [1 << 20] * 3
        assert (
            b"".join(chunks) == s3_client().get_object(Bucket=BUCKET, Key=large.key)["Body"].read()
        )
    finally:
        originals.close()


@pytest.mark.integration
def test_an_original_overwritten_or_deleted_since_the_manifest_fails_the_build() -> None:
    overwritten = _stored("a.jpg", b"version 1")
    s3_client().put_object(Bucket=BUCKET, Key=overwritten.key, Body=b"version 2")
    deleted = _stored("b.jpg", b"gone soon")
    s3_client().delete_object(Bucket=BUCKET, Key=deleted.key)
    originals = _originals()
    try:
        with pytest.raises(SnapshotChangedError, match=r"a\.jpg was overwritten or deleted"):
            originals.read(overwritten)
        with pytest.raises(SnapshotChangedError, match=r"b\.jpg was overwritten or deleted"):
            list(originals.chunks(deleted, 1 << 20))
        assert originals.read(_stored("c.jpg", b"fine")) == b"fine"  # the pool still works
    finally:
        originals.close()


@pytest.mark.integration
def test_storage_out_of_reach_or_refusing_is_transient() -> None:
    entry = _stored("d.jpg", b"x")
    with pytest.raises(StorageUnavailableError, match="HTTP 403"):
        _originals(secret="wrong").read(entry)
    with pytest.raises(StorageUnavailableError, match=entry.key):
        _originals(endpoint="http://127.0.0.1:1").read(entry)  # nothing listens on port 1
