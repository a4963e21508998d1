"""A snapshot's annotations: COCO files or YOLO labels with ``data.yaml``, laid out by split.

Every pass reads the stored manifest chunk by chunk, and a chunk's annotations exactly at the
manifest's revisions, so memory stays flat and an annotation changed mid-build fails it.
"""

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

from assetflow.domain.coco import bbox_of, export_entries
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
