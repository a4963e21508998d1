"""Where a snapshot puts each file, per format: today's layout, or one laid out by split.

A snapshot is laid out by split when any selected image is in one; otherwise the layout
stays what it was before splits existed, so consumers of such datasets see no change.
Pascal VOC keeps every image under ``JPEGImages/`` and lists splits in ``ImageSets/Main``;
Hugging Face ``imagefolder`` puts each split in its own folder (``train/`` without splits).
"""

import json
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import IO

from assetflow.domain.voc import JPEG_DIR
from assetflow.snapshotter.entries import GROUPS, UNASSIGNED, SnapshotEntry

COCO_FILE = "annotations.json"  # the single COCO file of a snapshot without splits
VOC_ALL = "default"  # the one image set of a VOC snapshot without splits (CVAT's name)
HF_ALL = "train"  # the one folder of a Hugging Face snapshot without splits


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

    @property
    def moves_images(self) -> bool:
        """Whether an image's bytes go anywhere but ``images/<path>``."""
        return self.format in ("voc", "hf") or (self.by_split and self.format == "yolo")

    def image(self, entry: SnapshotEntry) -> str:
        """Where the image's bytes go; COCO keeps one folder (its files name the images)."""
        if self.format == "voc":
            return f"{JPEG_DIR}{entry.path}"
        if self.format == "hf":
            return f"{self.hf_folder(entry.group())}/{entry.path}"
        if self.by_split and self.format == "yolo":
            return f"images/{entry.group()}/{entry.path}"
        return f"images/{entry.path}"

    def hf_folder(self, group: str) -> str:
        """A Hugging Face split's folder (``val`` reads as ``validation``; ``unassigned`` is
        skipped by ``load_dataset``, as YOLO skips it)."""
        return group if self.by_split else HF_ALL

    def hf_groups(self) -> list[str | None]:
        """The groups with a folder each; None: every image, in one."""
        return list(self.present()) if self.by_split else [None]

    def voc_sets(self) -> list[tuple[str, tuple[str, ...] | None]]:
        """(name, groups) of each ``ImageSets/Main/<name>.txt``; groups None: every image."""
        if not self.by_split:
            return [(VOC_ALL, None)]
        sets: list[tuple[str, tuple[str, ...] | None]] = [(g, (g,)) for g in self.present()]
        if self.groups.get("train") and self.groups.get("val"):
            sets.append(("trainval", ("train", "val")))
        return sets

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
