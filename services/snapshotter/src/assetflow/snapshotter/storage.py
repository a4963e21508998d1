"""What a job needs of object storage: small ports, with boto3's S3 client as the adapter.

The protocols name the subset of the S3 client a job calls (boto3's own method and argument
names, so the client is passed as it is); ``Originals`` adapts ``OriginalsSource``.
``tests/support/snapshotter_fakes.py`` holds in-memory fakes of each.
"""

from collections.abc import Iterator, Mapping
from typing import IO, Any, Protocol

from assetflow.readmodel.snapshots import ManifestEntry


class ArchiveStorage(Protocol):
    """Where a build writes its archive (a multipart upload) and the ``latest`` pointer.

    Raises botocore's errors, which the build turns into ``StorageUnavailableError``.
    """

    @property
    def exceptions(self) -> Any:
        """boto3's modelled errors (``NoSuchUpload``)."""
        ...

    def create_multipart_upload(
        self, *, Bucket: str, Key: str, ContentType: str
    ) -> Mapping[str, Any]:
        """Start an upload; the answer holds its ``UploadId``."""
        ...

    def upload_part(
        self, *, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body: bytes | bytearray
    ) -> Mapping[str, Any]:
        """Store one part; the answer holds its ``ETag``."""
        ...

    def complete_multipart_upload(
        self, *, Bucket: str, Key: str, UploadId: str, MultipartUpload: Mapping[str, Any]
    ) -> Any:
        """Assemble the parts into the object."""
        ...

    def abort_multipart_upload(self, *, Bucket: str, Key: str, UploadId: str) -> Any:
        """Drop every part of an upload (raises ``exceptions.NoSuchUpload`` if it is gone)."""
        ...

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, ContentType: str) -> Any:
        """Write a small object whole."""
        ...


class ImportStorage(Protocol):
    """Where an import reads its zip (ranged GETs of one version) and writes the images."""

    def head_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]:
        """``ContentLength`` and ``ETag`` of an object."""
        ...

    def get_object(self, *, Bucket: str, Key: str, Range: str, IfMatch: str) -> Mapping[str, Any]:
        """A byte range of exactly that version; the answer's ``Body`` has ``read()``."""
        ...

    def upload_fileobj(
        self, Fileobj: IO[bytes], Bucket: str, Key: str, ExtraArgs: Mapping[str, Any] | None = None
    ) -> None:
        """Stream a file into an object."""
        ...


class OriginalsSource(Protocol):
    """Reads an original at exactly the manifest's version.

    Raises ``SnapshotChangedError`` if that version is gone (the build fails, saying which
    image moved) and ``StorageUnavailableError`` if storage cannot answer (it is retried).
    """

    def read(self, entry: ManifestEntry) -> bytes:
        """The whole object (small ones; called from the fetch threads)."""
        ...

    def chunks(self, entry: ManifestEntry, size: int) -> Iterator[bytes]:
        """The object in chunks of ``size`` bytes (large ones, read as they are written)."""
        ...
