"""Where a snapshot puts each file: today's layout, or one laid out by split.

A snapshot is laid out by split when any selected image is in one; otherwise the layout
stays what it was before splits existed, so consumers of such datasets see no change.
"""

import json
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

from assetflow.snapshotter.entries import GROUPS, UNASSIGNED, SnapshotEntry

COCO_FILE = "annotations.json"  # the single COCO file of a snapshot without splits


@dataclass(frozen=True, slots=True)
class Layout:
    """The archive's names for one build: its format and how many images each group has."""

    format: str
    groups: Mapping[str, int]  # split (or ``unassigned``) -> images

    @property
    def by_split(self) -> bool:
        """Whether any image is in a split."""
        return any(n for group, n in self.groups.items() if group != UNASSIGNED)

    def present(self) -> list[str]:
        """The groups that have images, in archive order."""
        return [group for group in GROUPS if self.groups.get(group)]

    def image(self, entry: SnapshotEntry) -> str:
        """Where the image's bytes go; COCO keeps one folder (its files name the images)."""
        if self.by_split and self.format == "yolo":
            return f"images/{entry.group()}/{entry.path}"
        return f"images/{entry.path}"

    def label(self, entry: SnapshotEntry) -> str:
        """Where a YOLO label file goes: beside its image, under ``labels/``."""
        stem = entry.path.rsplit(".", 1)[0]
        return f"labels/{entry.group()}/{stem}.txt" if self.by_split else f"labels/{stem}.txt"

    def coco_files(self) -> list[tuple[str | None, str]]:
        """(group, name) of each COCO file; group None: every image, in one file."""
        if not self.by_split:
            return [(None, COCO_FILE)]
        return [(group, f"annotations/instances_{group}.json") for group in self.present()]

    def data_yaml(self, classes: Iterable[tuple[str, int]]) -> str:
        """YOLO's dataset file; Ultralytics needs ``train`` and ``val`` whatever is empty."""
        names = "\n".join(f"  {i}: {json.dumps(name)}" for name, i in classes)
        if not self.by_split:
            return f"path: .\ntrain: images\nval: images\nnames:\n{names}\n"
        lines = ["path: ."]
        for key, stand_ins in (("train", ("val", "test")), ("val", ("train", "test"))):
            if self.groups.get(key):
                lines.append(f"{key}: images/{key}")
                continue
            other = next(group for group in stand_ins if self.groups.get(group))
            lines.append(
                f"# no image is in {key}; Ultralytics requires {key}, so it reuses {other}"
            )
            lines.append(f"{key}: images/{other}")
        if self.groups.get("test"):
            lines.append("test: images/test")
        if self.groups.get(UNASSIGNED):
            lines.append(f"# images/{UNASSIGNED} holds the images in no split; no key uses them")
        return "\n".join([*lines, "names:", names]) + "\n"


class TextOut:
    """Text written as UTF-8 to a binary zip entry."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw

    def write(self, text: str) -> None:
        """Encode and write."""
        self._raw.write(text.encode())


def zip_entry(name: str, *, deflate: bool) -> zipfile.ZipInfo:
    """An archive member stamped now, readable by all, deflated or stored as it is."""
    info = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info
