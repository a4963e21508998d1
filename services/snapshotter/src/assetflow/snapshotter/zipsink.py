"""A write-only file that turns what ``zipfile`` writes into a multipart upload, part by part.

``zipfile`` writes to any object with ``write`` and ``tell``; without ``seek`` it streams
(sizes and CRC after each entry, in a data descriptor), so the archive is never held in
memory or on disk: at most one part being filled plus ``in_flight`` parts being uploaded.
"""

import contextlib
import math
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MAX_PARTS = 10_000
MIN_PART = 5 << 20  # S3's floor for every part but the last


def part_size_for(expected_bytes: int, floor: int) -> int:
    """A part size that fits ``expected_bytes`` (plus headroom) in S3's 10,000 parts."""
    needed = math.ceil(expected_bytes * 1.05 / (MAX_PARTS - 100))
    return max(floor, MIN_PART, needed)


class MultipartSink:
    """File-like target of one multipart upload; ``close`` completes it, ``abort`` drops it."""

    def __init__(
        self, s3: Any, bucket: str, key: str, upload_id: str, part_size: int, in_flight: int
    ) -> None:
        self._s3, self._bucket, self._key, self._upload_id = s3, bucket, key, upload_id
        self._part_size = part_size
        self._buffer = bytearray()  # the part being filled; sent as it is, never copied
        self._position = 0
        self._pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="part")
        self._pending: deque[Future[dict[str, Any]]] = deque()
        self._in_flight = in_flight
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``; every full part goes to storage (blocking when too many are out)."""
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            room = self._part_size - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if len(self._buffer) == self._part_size:
                self._send(self._buffer)
                self._buffer = bytearray()
        self._position += size
        return size

    def tell(self) -> int:
        """Bytes written so far (``zipfile`` records entry offsets with it)."""
        return self._position

    def flush(self) -> None:
        """Nothing to do: parts go out as they fill."""

    def close(self) -> None:
        """Nothing to do: ``complete`` or ``abort`` ends the upload."""

    def _send(self, data: bytearray) -> None:
        while len(self._pending) >= self._in_flight:
            self._parts.append(self._pending.popleft().result())
        number = len(self._parts) + len(self._pending) + 1
        if number > MAX_PARTS:
            raise ValueError(f"the archive needs more than {MAX_PARTS} parts")
        self._pending.append(self._pool.submit(self._upload, number, data))

    def _upload(self, number: int, data: bytearray) -> dict[str, Any]:
        answer = self._s3.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def complete(self) -> int:
        """Send the last part, wait for all, complete the upload; returns the archive size."""
        if self._buffer or not (self._parts or self._pending):
            self._send(self._buffer)
            self._buffer = bytearray()
        while self._pending:
            self._parts.append(self._pending.popleft().result())
        self._pool.shutdown()
        self._s3.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": sorted(self._parts, key=lambda p: p["PartNumber"])},
        )
        return self._position

    def abort(self) -> None:
        """Drop every uploaded part: nothing of this archive stays visible."""
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        abort_upload(self._s3, self._bucket, self._key, self._upload_id)


def abort_upload(s3: Any, bucket: str, key: str, upload_id: str) -> None:
    """Abort a multipart upload; one that is already gone is fine."""
    with contextlib.suppress(s3.exceptions.NoSuchUpload):
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
