"""Zip imports: what a dataset zip may hold, checked on its central directory before any byte
is extracted, and a read-only file over ranged GETs so the zip is never downloaded whole.

Layout: ``images/<path>`` (image files) and an optional COCO ``annotations.json`` at the top.
Refused, with every reason: absolute paths, ``..`` or empty segments, backslashes and control
characters, symlinks, more entries than allowed, an entry whose compression ratio is above
the limit or a total uncompressed size above it (zip bombs), anything else outside
``images/``, and non-image files under it.
"""

import io
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

IMAGES_DIR: Final = "images/"
ANNOTATIONS: Final = "annotations.json"
IMAGE_SUFFIXES: Final = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".png",
        ".webp",
        ".gif",
        ".tif",
        ".tiff",
        ".avif",
        ".heic",
        ".heif",
        ".bmp",
        ".dng",
        ".cr2",
        ".cr3",
        ".nef",
        ".arw",
        ".raf",
        ".orf",
        ".rw2",
    }
)


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What an import accepts."""

    max_entries: int = 1_000_000
    max_ratio: float = 100.0
    max_total_bytes: int = 50 << 30
    max_annotations_bytes: int = 256 << 20


@dataclass
class ZipPlan:
    """A checked zip: the images to write (entry, dataset path) and where the annotations are."""

    images: list[tuple[zipfile.ZipInfo, str]] = field(default_factory=list)
    annotations: zipfile.ZipInfo | None = None
    total_bytes: int = 0
    problems: list[str] = field(default_factory=list)


def path_problem(name: str) -> str | None:
    """Why an entry name is unsafe, or None."""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if "\\" in name:
        return "a backslash (not a zip path separator)"
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return "a control character"
    segments = name.rstrip("/").split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "an empty, '.' or '..' segment"
    if len(name.encode()) > 1024:
        return "more than 1,024 bytes"
    return None


def plan_zip(entries: Iterable[zipfile.ZipInfo], limits: ZipLimits) -> ZipPlan:
    """Check every entry of a zip's central directory; problems name the entry and the rule."""
    plan = ZipPlan()
    seen: set[str] = set()
    count = 0
    for info in entries:
        count += 1
        if count > limits.max_entries:
            plan.problems.append(f"more than {limits.max_entries:,} entries")
            break
        name = info.filename
        if problem := path_problem(name):
            plan.problems.append(f"{name!r}: {problem}")
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            plan.problems.append(f"{name!r}: a symbolic link")
            continue
        if info.is_dir():
            continue
        if name in seen:
            plan.problems.append(f"{name!r}: listed twice")
            continue
        seen.add(name)
        ratio = info.file_size / max(1, info.compress_size)
        if ratio > limits.max_ratio:
            plan.problems.append(
                f"{name!r}: compression ratio {ratio:,.0f}:1 is above {limits.max_ratio:g}:1"
            )
            continue
        plan.total_bytes += info.file_size
        if name == ANNOTATIONS:
            if info.file_size > limits.max_annotations_bytes:
                plan.problems.append(
                    f"{name!r}: larger than {limits.max_annotations_bytes:,} bytes"
                )
            plan.annotations = info
        elif not name.startswith(IMAGES_DIR):
            plan.problems.append(f"{name!r}: outside images/ (only annotations.json may be)")
        elif not _is_image(name):
            plan.problems.append(f"{name!r}: not an image file under images/")
        else:
            plan.images.append((info, name.removeprefix(IMAGES_DIR)))
    if plan.total_bytes > limits.max_total_bytes:
        plan.problems.append(
            f"{plan.total_bytes:,} bytes uncompressed, above the limit of "
            f"{limits.max_total_bytes:,}"
        )
    return plan


def _is_image(name: str) -> bool:
    dot = name.rfind(".")
    return dot > name.rfind("/") and name[dot:].lower() in IMAGE_SUFFIXES


class RangeFile(io.RawIOBase):
    """A seekable read-only file over an object in storage: each read is a ranged GET."""

    def __init__(self, s3: Any, bucket: str, key: str, size: int, etag: str) -> None:
        self._s3, self._bucket, self._key, self._etag = s3, bucket, key, etag
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        """Yes."""
        return True

    def seekable(self) -> bool:
        """Yes: zipfile reads the central directory at the end first."""
        return True

    def tell(self) -> int:
        """The current offset."""
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move; nothing is read until the next read."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the current offset (one ranged GET of the same object version)."""
        if self._position >= self._size or not len(buffer):
            return 0
        end = min(self._size, self._position + len(buffer)) - 1
        answer = self._s3.get_object(
            Bucket=self._bucket,
            Key=self._key,
            Range=f"bytes={self._position}-{end}",
            IfMatch=self._etag,
        )
        data = answer["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def open_remote_zip(s3: Any, bucket: str, key: str, *, buffer: int = 1 << 20) -> zipfile.ZipFile:
    """A ZipFile reading ``bucket/key`` through ranged GETs (buffered: few, large requests)."""
    head = s3.head_object(Bucket=bucket, Key=key)
    raw = RangeFile(s3, bucket, key, int(head["ContentLength"]), head["ETag"])
    return zipfile.ZipFile(io.BufferedReader(raw, buffer_size=buffer))
