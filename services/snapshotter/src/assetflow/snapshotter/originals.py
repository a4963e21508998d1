"""Reading originals for a build: GETs of presigned URLs over a pool of HTTP connections.

A snapshot reads one object per image. boto3's ``get_object`` costs ~3.3 ms of CPU per call
here (parameter handling, signing, event hooks, parsing) against ~0.7 ms for a GET of a URL
from our presigner, for 512 KiB originals (see docs/benchmarks.md, "Snapshots"); at the
bench's image size that was half the snapshotter's CPU.
"""

import time
from collections.abc import Iterator

import urllib3

from assetflow.contracts.errors import StorageUnavailableError
from assetflow.readmodel.snapshots import ManifestEntry
from assetflow.storage.presign import Presigner
from assetflow.storage.timing import STORAGE_SECONDS

_OPERATION = "GetObject"
_URL_EXPIRES_S = 300  # used at once, in this process only


class SnapshotChangedError(Exception):
    """The selection changed under the build: an image or its annotations moved on."""


class Originals:
    """Reads a manifest entry's object at exactly the manifest's version (``If-Match``)."""

    def __init__(self, presigner: Presigner, bucket: str, connections: int) -> None:
        self._presigner = presigner
        self._bucket = bucket
        self._http = urllib3.PoolManager(
            maxsize=connections,
            block=True,
            retries=False,  # the command is redelivered after a back-off instead
            timeout=urllib3.Timeout(connect=10.0, read=60.0),
        )

    def read(self, entry: ManifestEntry) -> bytes:
        """The whole object (for small ones; read inside ``_get``, so its errors map there)."""
        return self._get(entry, stream=False).data

    def chunks(self, entry: ManifestEntry, size: int) -> Iterator[bytes]:
        """The object in chunks of ``size`` bytes (for large ones)."""
        answer = self._get(entry, stream=True)
        try:
            yield from answer.stream(size)
        except urllib3.exceptions.HTTPError as exc:
            raise StorageUnavailableError(f"reading {entry.key}: {exc}") from exc
        finally:
            answer.release_conn()

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.clear()

    def _get(self, entry: ManifestEntry, *, stream: bool) -> urllib3.BaseHTTPResponse:
        url = self._presigner.presign_get(self._bucket, entry.key, _URL_EXPIRES_S)
        started = time.perf_counter()
        try:
            answer = self._http.request(
                "GET", url, headers={"If-Match": f'"{entry.etag}"'}, preload_content=not stream
            )
        except urllib3.exceptions.HTTPError as exc:
            STORAGE_SECONDS.labels(_OPERATION, "error").observe(time.perf_counter() - started)
            raise StorageUnavailableError(f"GET {entry.key}: {exc}") from exc
        STORAGE_SECONDS.labels(_OPERATION, f"{answer.status // 100}xx").observe(
            time.perf_counter() - started
        )
        if answer.status == 200:
            return answer
        answer.drain_conn()
        answer.release_conn()
        if answer.status in (404, 412):
            raise SnapshotChangedError(
                f"{entry.path} was overwritten or deleted while the snapshot was built "
                f"(the manifest has etag {entry.etag}); request the snapshot again"
            )
        raise StorageUnavailableError(f"GET {entry.key}: HTTP {answer.status}")
