"""A snapshot's annotations, laid out by split: COCO files, YOLO labels with ``data.yaml``,
Pascal VOC XML with image sets, or Hugging Face ``metadata.jsonl`` files with a ``README.md``.

Every pass reads the stored manifest chunk by chunk, and a chunk's annotations exactly at the
manifest's revisions, so memory stays flat and an annotation changed mid-build fails it.
"""

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from assetflow.domain.coco import bbox_of, export_entries
from assetflow.domain.voc import SETS_DIR, XML_DIR, VocIds, boxes, voc_xml
from assetflow.readmodel.annotations import Shape
from assetflow.snapshotter.entries import SnapshotEntry
from assetflow.snapshotter.layout import Layout, TextOut, zip_entry
from assetflow.snapshotter.originals import SnapshotChangedError
from assetflow.snapshotter.store import SnapshotStore

Numbered = list[tuple[int, SnapshotEntry]]


@dataclass
class Annotations:
    """Writes one build's annotations into its archive; counts the shapes written."""

    store: SnapshotStore
    snapshot_id: str
    dataset_id: str
    layout: Layout
    shapes: int = 0
    _next_annotation: int = field(default=1, init=False)

    def write(self, archive: zipfile.ZipFile) -> None:
        """The format's files, in the layout's places."""
        if self.layout.format == "yolo":
            self._yolo(archive)
            return
        if self.layout.format == "voc":
            self._voc(archive)
            return
        if self.layout.format == "hf":
            self._hf(archive)
            return
        # Split files share one categories list, so it is known before the first is written;
        # a single file learns it as it goes (its categories come last).
        categories = self._labels() if self.layout.by_split else {}
        for group, name in self.layout.coco_files():
            self._coco(archive, name, group, categories)

    def _numbered(self, group: str | None) -> Iterator[Numbered]:
        """The manifest chunk by chunk: a group's entries (None: all) with their positions."""
        # The position is the image's COCO id: one id whichever split file lists the image.
        number = 0
        for _, entries in self.store.chunks(self.snapshot_id):
            numbered = []
            for entry in entries:
                number += 1
                if group is None or entry.group() == group:
                    numbered.append((number, entry))
            yield numbered

    def _labels(self) -> dict[str, int]:
        """Category ids of every label, numbered in manifest order (as a single file does)."""
        categories: dict[str, int] = {}
        for numbered in self._numbered(None):
            shapes = self._annotated(numbered)
            for _, entry in numbered:
                for shape in shapes.get(entry.image_id, []):
                    categories.setdefault(shape.label, len(categories) + 1)
        return categories

    def _coco(
        self, archive: zipfile.ZipFile, name: str, group: str | None, categories: dict[str, int]
    ) -> None:
        with archive.open(zip_entry(name, deflate=True), "w") as raw:
            out = TextOut(raw)
            info = {"description": f"assetflow snapshot of {self.dataset_id}"}
            out.write(f'{{"info": {json.dumps(info)}, "images": [')
            separator = ""
            for number, entry in chain.from_iterable(self._numbered(group)):
                image = {"id": number, "file_name": entry.path}
                image |= {"width": entry.width, "height": entry.height}
                out.write(separator + json.dumps(image))
                separator = ","
            out.write('], "annotations": [')
            separator = ""
            for numbered in self._numbered(group):
                shapes = self._annotated(numbered)
                for number, entry in numbered:
                    own = shapes.get(entry.image_id, [])
                    for shape in own:
                        categories.setdefault(shape.label, len(categories) + 1)
                    for item in export_entries(own, number, categories, self._next_annotation):
                        out.write(separator + json.dumps(item))
                        separator = ","
                    self._next_annotation += len(own)
                    self.shapes += len(own)
            listed = [{"id": i, "name": label} for label, i in categories.items()]
            out.write(f'], "categories": {json.dumps(listed)}}}')

    def _yolo(self, archive: zipfile.ZipFile) -> None:
        classes: dict[str, int] = {}
        for numbered in self._numbered(None):
            shapes = self._annotated(numbered)
            for _, entry in numbered:
                own = shapes.get(entry.image_id, [])
                lines = []
                for shape in own:
                    box = bbox_of(shape)
                    if not box or not entry.width or not entry.height:
                        continue  # a whole-image tag, or an image of unknown size
                    x, y, w, h = box
                    cls = classes.setdefault(shape.label, len(classes))
                    cx, cy = (x + w / 2) / entry.width, (y + h / 2) / entry.height
                    lines.append(
                        f"{cls} {cx:.6f} {cy:.6f} {w / entry.width:.6f} {h / entry.height:.6f}"
                    )
                self.shapes += len(own)
                archive.writestr(
                    zip_entry(self.layout.label(entry), deflate=True), "\n".join(lines)
                )
        archive.writestr(
            zip_entry("data.yaml", deflate=True), self.layout.data_yaml(classes.items())
        )

    def _voc(self, archive: zipfile.ZipFile) -> None:
        labels: dict[str, None] = {}  # in order of first appearance
        ids = VocIds()
        for numbered in self._numbered(None):
            shapes = self._annotated(numbered)
            for _, entry in numbered:
                own = shapes.get(entry.image_id, [])
                written = boxes(own)
                labels.update(dict.fromkeys(label for label, _ in written))
                self.shapes += len(written)
                body = voc_xml(entry.path, entry.width, entry.height, own)
                archive.writestr(zip_entry(f"{XML_DIR}{ids(entry.path)}.xml", deflate=True), body)
        for name, groups in self.layout.voc_sets():
            ids = VocIds()  # called on every path again, in the same order: the same ids
            with archive.open(zip_entry(f"{SETS_DIR}{name}.txt", deflate=True), "w") as raw:
                out = TextOut(raw)
                for _, entries in self.store.chunks(self.snapshot_id):
                    for entry in entries:
                        image_id = ids(entry.path)
                        if groups is None or entry.group() in groups:
                            out.write(image_id + "\n")
        archive.writestr(zip_entry("labels.txt", deflate=True), "".join(f"{n}\n" for n in labels))

    def _hf(self, archive: zipfile.ZipFile) -> None:
        categories: dict[str, int] = {}  # one numbering across the split folders
        for group in self.layout.hf_groups():
            folder = self.layout.hf_folder(group or "")
            with archive.open(zip_entry(f"{folder}/metadata.jsonl", deflate=True), "w") as raw:
                out = TextOut(raw)
                for numbered in self._numbered(group):
                    shapes = self._annotated(numbered)
                    for _, entry in numbered:
                        written = boxes(shapes.get(entry.image_id, []))
                        self.shapes += len(written)
                        out.write(json.dumps(hf_row(entry, written, categories)) + "\n")
        archive.writestr(zip_entry("README.md", deflate=True), hf_card(self.dataset_id, categories))

    def _annotated(self, numbered: Numbered) -> dict[str, list[Shape]]:
        """The shapes of annotated entries, exactly at the manifest's revisions."""
        wanted = {e.image_id: e for _, e in numbered if e.annotation_revision}
        if not wanted:
            return {}
        shapes: dict[str, list[Shape]] = {}
        for stored in self.store.annotations(wanted):
            entry = wanted[stored.image_id]
            if stored.revision != entry.annotation_revision:
                raise SnapshotChangedError(
                    f"the annotations of {entry.path} changed while the snapshot was built "
                    f"(revision {entry.annotation_revision} -> {stored.revision}); "
                    "request the snapshot again"
                )
            shapes[stored.image_id] = stored.shapes
        return shapes


def hf_row(
    entry: SnapshotEntry, written: list[tuple[str, list[float]]], categories: dict[str, int]
) -> dict[str, Any]:
    """One image's ``metadata.jsonl`` row; a new label gets the next category index."""
    objects = {
        "bbox": [box for _, box in written],
        "categories": [categories.setdefault(label, len(categories)) for label, _ in written],
    }
    return {
        "file_name": entry.path,
        "width": entry.width,
        "height": entry.height,
        "objects": objects,
    }


def hf_card(dataset_id: str, categories: dict[str, int]) -> str:
    """The dataset card: its features, ``categories`` as a ``ClassLabel`` with the names."""
    names = "\n".join(f"            '{i}': {json.dumps(name)}" for name, i in categories.items())
    return f"""---
dataset_info:
  features:
  - name: image
    dtype: image
  - name: width
    dtype: int64
  - name: height
    dtype: int64
  - name: objects
    struct:
    - name: bbox
      list:
        list: float64
    - name: categories
      list:
        class_label:
          names:
{names or "            {}"}
---
# assetflow snapshot of {dataset_id}

Hugging Face `imagefolder` layout: one folder per split (`train/`, `val/`, `test/`; images
in no split in `unassigned/`, which `load_dataset` skips; without splits, all in `train/`),
each with a `metadata.jsonl`. A row's `objects.bbox` are `[x, y, width, height]` in pixels of
the displayed (EXIF-upright) image; `objects.categories` index the class names above.
`load_dataset("imagefolder", data_dir=...)` reads the splits; pass `features=` with the
`ClassLabel` above to get the names from a local folder (the Hub reads them from this card).
"""
