"""Zip imports: what a dataset zip may hold, checked on its central directory before any byte
is extracted, and a read-only file over ranged GETs so the zip is never downloaded whole.

Layouts, told apart by their folders: COCO, ``images/<path>`` and an optional
``annotations.json`` at the top; YOLO, ``images/<path>``, ``labels/<path>.txt`` and
``data.yaml``; Pascal VOC, ``JPEGImages/<path>``, ``Annotations/<id>.xml`` (and
``ImageSets/``, ``labels.txt``, which say nothing an import needs). An assetflow snapshot's
own ``manifest.jsonl`` and ``snapshot.json`` are skipped, so a snapshot imports as it is.
Refused, with every reason: absolute paths, ``..`` or empty segments, backslashes and control
characters, symlinks, more entries than allowed, an entry whose compression ratio is above
the limit or a total uncompressed size above it (zip bombs), annotation files above their
limit, anything else outside the layout's folders, and non-image files among the images.
"""

import io
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

ImportFormat = Literal["coco", "yolo", "voc"]
IMAGES_DIR: Final = "images/"
ANNOTATIONS: Final = "annotations.json"
YOLO_LABELS_DIR: Final = "labels/"
YOLO_DATA: Final = frozenset({"data.yaml", "data.yml"})
VOC_IMAGES_DIR: Final = "JPEGImages/"
VOC_XML_DIR: Final = "Annotations/"
VOC_SKIPPED: Final = ("ImageSets/", "labels.txt", "labelmap.txt")
SNAPSHOT_FILES: Final = frozenset({"manifest.jsonl", "snapshot.json"})
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
    """A checked zip: its layout, the images to write (entry, dataset path) and where the
    annotations are."""

    format: ImportFormat = "coco"
    images: list[tuple[zipfile.ZipInfo, str]] = field(default_factory=list)
    annotations: zipfile.ZipInfo | None = None  # COCO's annotations.json, YOLO's data.yaml
    labels: list[tuple[zipfile.ZipInfo, str]] = field(default_factory=list)  # YOLO .txt, VOC .xml
    total_bytes: int = 0
    annotation_bytes: int = 0
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


def detect_format(names: Iterable[str]) -> ImportFormat:
    """The layout a zip's entry names follow: VOC's or YOLO's folders, else COCO's."""
    found: ImportFormat = "coco"
    for name in names:
        if name.startswith((VOC_IMAGES_DIR, VOC_XML_DIR)):
            return "voc"
        if name.startswith(YOLO_LABELS_DIR) or name in YOLO_DATA:
            found = "yolo"
    return found


def plan_zip(entries: Iterable[zipfile.ZipInfo], limits: ZipLimits) -> ZipPlan:
    """Check every entry of a zip's central directory; problems name the entry and the rule."""
    listed = list(entries)
    plan = ZipPlan(format=detect_format(info.filename for info in listed))
    seen: set[str] = set()
    for count, info in enumerate(listed, start=1):
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
        if problem := _place(plan, info):
            plan.problems.append(f"{name!r}: {problem}")
    if plan.annotation_bytes > limits.max_annotations_bytes:
        plan.problems.append(
            f"{plan.annotation_bytes:,} bytes of annotation files, above the limit of "
            f"{limits.max_annotations_bytes:,}"
        )
    if plan.total_bytes > limits.max_total_bytes:
        plan.problems.append(
            f"{plan.total_bytes:,} bytes uncompressed, above the limit of "
            f"{limits.max_total_bytes:,}"
        )
    return plan


def _place(plan: ZipPlan, info: zipfile.ZipInfo) -> str | None:
    """Put one entry where its layout says; returns why it has no place there."""
    name = info.filename
    if name in SNAPSHOT_FILES:
        return None
    images_dir = VOC_IMAGES_DIR if plan.format == "voc" else IMAGES_DIR
    if name.startswith(images_dir):
        if not _is_image(name):
            return f"not an image file under {images_dir}"
        plan.images.append((info, name.removeprefix(images_dir)))
        return None
    if plan.format == "coco":
        if name != ANNOTATIONS:
            return "outside images/ (only annotations.json may be)"
        plan.annotations = info
    elif plan.format == "yolo":
        if name in YOLO_DATA:
            if plan.annotations is not None:
                return "a second data.yaml"
            plan.annotations = info
        elif name.startswith(YOLO_LABELS_DIR) and name.endswith(".txt"):
            plan.labels.append((info, name.removeprefix(YOLO_LABELS_DIR)))
        else:
            return "outside images/ and labels/ (only data.yaml may be), or not a .txt label"
    elif name.startswith(VOC_SKIPPED):
        return None
    elif name.startswith(VOC_XML_DIR) and name.endswith(".xml"):
        plan.labels.append((info, name.removeprefix(VOC_XML_DIR)))
    else:
        return "outside JPEGImages/, Annotations/ (.xml) and ImageSets/"
    plan.annotation_bytes += info.file_size
    return None


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
