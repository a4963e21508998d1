"""A zip's annotations in its layout (COCO, YOLO or VOC), read into shapes per image path.

Read before any image is written, so an annotation file that cannot be read safely (VOC XML
with a DTD or entities, or not well-formed) refuses the whole zip. COCO and VOC hold pixel
coordinates; YOLO's are normalised, so its labels wait for each image's displayed size.
"""

import posixpath
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from assetflow.domain.coco import CocoFile, ImageShapes, orphan_errors, read_coco
from assetflow.domain.voc import VocError, read_voc
from assetflow.domain.yolo import YoloError, read_label, read_names
from assetflow.domain.zipimport import VOC_XML_DIR, YOLO_LABELS_DIR, ZipPlan

Size = tuple[int, int] | None


class AnnotationsRefused(Exception):
    """Annotation files that refuse the zip, each with its reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:3]))
        self.problems = problems


@dataclass
class ZipAnnotations:
    """What a zip's annotation files say: shapes by image path, and what is not usable."""

    items: list[ImageShapes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # not one image's: orphans, stray files
    names: list[str] = field(default_factory=list)  # YOLO's classes
    labels: dict[str, str] = field(default_factory=dict)  # YOLO: image path -> label text

    def sized(self) -> list[str]:
        """Paths of the images whose size the shapes need (YOLO's)."""
        return list(self.labels)

    def shapes(self, sizes: Mapping[str, Size]) -> list[ImageShapes]:
        """Every image's shapes, YOLO's in pixels of the sizes given (by path)."""
        items = list(self.items)
        for path, text in self.labels.items():
            size = sizes.get(path)
            if size is None:
                items.append(ImageShapes(path, errors=["its size is unknown (not decoded)"]))
                continue
            shapes, errors = read_label(text, self.names, *size)
            items.append(ImageShapes(path, shapes, [f"label {e}" for e in errors]))
        return items


def read_annotations(archive: zipfile.ZipFile, plan: ZipPlan) -> ZipAnnotations | str | None:
    """The zip's annotations, a reason they cannot be used, or None without any.

    Raises AnnotationsRefused for files no import should read.
    """
    if plan.format == "voc":
        return _voc(archive, plan)
    if plan.format == "yolo":
        return _yolo(archive, plan)
    if plan.annotations is None:
        return None
    try:
        coco = CocoFile.model_validate_json(archive.read(plan.annotations))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"annotations.json is not a COCO file: {where}: {first['msg']}"
    return ZipAnnotations(read_coco(coco), orphan_errors(coco))


def _voc(archive: zipfile.ZipFile, plan: ZipPlan) -> ZipAnnotations:
    paths = {path for _, path in plan.images}
    by_stem = _by_stem(paths)
    found = ZipAnnotations()
    refused: list[str] = []
    taken: dict[str, str] = {}
    for info, name in plan.labels:
        where = f"{VOC_XML_DIR}{name}"
        try:
            parsed = read_voc(archive.read(info))
        except VocError as exc:
            refused.append(f"{where!r}: {exc}")
            continue
        path = _voc_image(name, parsed.filename, paths, by_stem)
        if path is None:
            found.errors.append(f"{where}: names no image under JPEGImages/")
        elif path in taken:
            found.errors.append(f"{where}: {path} is annotated by {taken[path]} already")
        else:
            taken[path] = where
            found.items.append(ImageShapes(path, parsed.shapes, parsed.errors))
    if refused:
        raise AnnotationsRefused(refused)
    return found


def _voc_image(
    name: str, filename: str | None, paths: set[str], by_stem: dict[str, list[str]]
) -> str | None:
    """The image an annotation file describes: its ``<filename>`` (under ``JPEGImages/``,
    or beside the file's own folder), else the one image named like the file."""
    folder = posixpath.dirname(name)
    if filename:
        for candidate in (filename, posixpath.join(folder, filename)):
            if candidate in paths:
                return candidate
    same = by_stem.get(name.removesuffix(".xml"), [])
    return same[0] if len(same) == 1 else None


def _yolo(archive: zipfile.ZipFile, plan: ZipPlan) -> ZipAnnotations | str | None:
    if plan.annotations is None:
        return "labels/ without data.yaml: the class names are unknown" if plan.labels else None
    try:
        names = read_names(archive.read(plan.annotations))
    except YoloError as exc:
        return str(exc)
    by_stem = _by_stem(path for _, path in plan.images)
    found = ZipAnnotations(names=names)
    for info, name in plan.labels:
        where = f"{YOLO_LABELS_DIR}{name}"
        same = by_stem.get(name.removesuffix(".txt"), [])
        if len(same) != 1:
            found.errors.append(
                f"{where}: {'no image' if not same else 'several images'} under images/ "
                "with its name"
            )
            continue
        try:
            found.labels[same[0]] = archive.read(info).decode()
        except UnicodeDecodeError:
            found.items.append(ImageShapes(same[0], errors=[f"{where} is not UTF-8 text"]))
    return found


def _by_stem(paths: Iterable[str]) -> dict[str, list[str]]:
    """Image paths by their path without the extension."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        found[posixpath.splitext(path)[0]].append(path)
    return found
