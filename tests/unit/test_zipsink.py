"""The multipart sink cuts what zipfile writes into parts of exactly the part size."""

import io
import os
import random
import threading
import zipfile
from typing import Any

import pytest

from assetflow.snapshotter.zipsink import MultipartSink, part_size_for


class _Storage:
    """Records the parts of one multipart upload, as S3 would assemble them."""

    class exceptions:  # boto3's name
        class NoSuchUpload(Exception):
            """The upload is gone already."""

    def __init__(self) -> None:
        self.parts: dict[int, bytes] = {}
        self.completed: list[dict[str, Any]] | None = None
        self.aborted = False
        self._lock = threading.Lock()

    def upload_part(self, *, PartNumber: int, Body: bytearray, **_: Any) -> dict[str, str]:
        with self._lock:
            self.parts[PartNumber] = bytes(Body)
        return {"ETag": f'"etag-{PartNumber}"'}

    def complete_multipart_upload(self, *, MultipartUpload: dict[str, Any], **_: Any) -> None:
        self.completed = MultipartUpload["Parts"]

    def abort_multipart_upload(self, **_: Any) -> None:
        self.aborted = True


@pytest.mark.unit
def test_writes_of_any_size_become_full_parts_then_a_last_one() -> None:
    storage = _Storage()
    sink = MultipartSink(storage, "b", "k", "u", part_size=1000, in_flight=2)
    data = os.urandom(10_500)
    rng = random.Random(7)
    at = 0
    while at < len(data):
        step = rng.choice([1, 7, 999, 1000, 1001, 2500])
        assert sink.write(memoryview(data)[at : at + step]) == len(data[at : at + step])
        at += step
    assert sink.tell() == len(data)
    assert sink.complete() == len(data)
    assert [len(storage.parts[n]) for n in sorted(storage.parts)] == [1000] * 10 + [500]
    assert b"".join(storage.parts[n] for n in sorted(storage.parts)) == data
    assert storage.completed == [{"PartNumber": n, "ETag": f'"etag-{n}"'} for n in range(1, 12)]


@pytest.mark.unit
def test_a_zip_written_through_the_sink_reads_back() -> None:
    storage = _Storage()
    sink = MultipartSink(storage, "b", "k", "u", part_size=4096, in_flight=1)
    files = {f"images/{n}.jpg": os.urandom(n * 997) for n in range(1, 9)}
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[arg-type]
        for name, body in files.items():
            archive.writestr(name, body)
    sink.complete()
    whole = b"".join(storage.parts[n] for n in sorted(storage.parts))
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        assert {name: archive.read(name) for name in archive.namelist()} == files


@pytest.mark.unit
def test_an_empty_archive_is_one_empty_part_and_abort_drops_the_upload() -> None:
    storage = _Storage()
    sink = MultipartSink(storage, "b", "k", "u", part_size=1000, in_flight=2)
    assert sink.complete() == 0 and storage.parts == {1: b""}
    aborting = MultipartSink(storage, "b", "k", "u", part_size=1000, in_flight=2)
    aborting.write(b"x" * 2500)
    aborting.abort()
    assert storage.aborted


@pytest.mark.unit
def test_the_part_size_grows_to_fit_ten_thousand_parts() -> None:
    assert part_size_for(1 << 30, 5 << 20) == 5 << 20
    assert part_size_for(100 << 30, 5 << 20) * 9_900 >= (100 << 30) * 1.05
