"""COCO object-detection JSON: reading it into shapes (import) and writing shapes as it (export).

A COCO annotation becomes one shape: a polygon when it has a polygon segmentation (the bbox
is then derived), else a box; keypoints become a ``points`` shape. RLE masks (``iscrowd``)
have no shape here and are reported, never silently dropped.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from assetflow.readmodel.annotations import Shape


class CocoImage(BaseModel):
    """An image entry; ``file_name`` is the image's path in the dataset."""

    model_config = ConfigDict(extra="allow", strict=True)

    id: StrictInt | StrictStr
    file_name: str = Field(min_length=1, max_length=1024)
    width: int | None = None
    height: int | None = None


class CocoAnnotation(BaseModel):
    """An annotation entry (extra fields are kept out of the way, not rejected)."""

    model_config = ConfigDict(extra="allow", strict=True)

    id: StrictInt | StrictStr
    image_id: StrictInt | StrictStr
    category_id: StrictInt | StrictStr
    bbox: list[float] | None = None
    segmentation: Any = None
    keypoints: list[float] | None = None
    score: float | None = None
    iscrowd: int = 0
    attributes: dict[str, Any] | None = None


class CocoCategory(BaseModel):
    """A category: its name is the label."""

    model_config = ConfigDict(extra="allow", strict=True)

    id: StrictInt | StrictStr
    name: str = Field(min_length=1, max_length=64)


class CocoFile(BaseModel):
    """The parts of a COCO file this importer reads."""

    model_config = ConfigDict(extra="allow")

    images: list[CocoImage]
    annotations: list[CocoAnnotation] = Field(default_factory=list)
    categories: list[CocoCategory] = Field(default_factory=list)


@dataclass
class ImageShapes:
    """One COCO image's shapes, or the reasons it cannot be imported."""

    file_name: str
    shapes: list[Shape] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_coco(coco: CocoFile) -> list[ImageShapes]:
    """Every COCO image with its annotations as shapes (errors named per annotation)."""
    labels = {category.id: category.name for category in coco.categories}
    by_image: dict[int | str, ImageShapes] = {
        image.id: ImageShapes(image.file_name) for image in coco.images
    }
    for entry in coco.annotations:
        target = by_image.get(entry.image_id)
        if target is None:
            continue  # reported by the caller as an annotation of an unknown image
        try:
            target.shapes.extend(_shapes(entry, labels))
        except (ValueError, ValidationError) as exc:
            target.errors.append(f"annotation {entry.id!r}: {_reason(exc)}")
    return list(by_image.values())


def orphans(coco: CocoFile) -> list[str]:
    """Ids of annotations whose image is not in the file."""
    known = {image.id for image in coco.images}
    return [str(entry.id) for entry in coco.annotations if entry.image_id not in known]


def orphan_errors(coco: CocoFile) -> list[str]:
    """An import's report of the annotations whose image is not in the file."""
    return [f"annotation {orphan}: its image_id is not in 'images'" for orphan in orphans(coco)]


def _shapes(entry: CocoAnnotation, labels: dict[int | str, str]) -> list[Shape]:
    label = labels.get(entry.category_id)
    if label is None:
        raise ValueError(f"category {entry.category_id!r} is not in 'categories'")
    extra: dict[str, Any] = {"label": label, "score": entry.score, "attributes": entry.attributes}
    if entry.iscrowd or isinstance(entry.segmentation, dict):
        raise ValueError("RLE segmentation (iscrowd) has no shape here")
    shapes: list[Shape] = []
    polygons = entry.segmentation or []
    for index, flat in enumerate(polygons):
        if not isinstance(flat, list) or len(flat) % 2:
            raise ValueError("a polygon segmentation is a flat list [x1, y1, x2, y2, ...]")
        points = [[flat[i], flat[i + 1]] for i in range(0, len(flat), 2)]
        suffix = f"-{index}" if len(polygons) > 1 else ""
        shapes.append(Shape(id=f"{entry.id}{suffix}", type="polygon", points=points, **extra))
    if not shapes and entry.bbox is not None:
        shapes.append(Shape(id=str(entry.id), type="bbox", bbox=entry.bbox, **extra))
    if entry.keypoints:
        flat = entry.keypoints
        visible = [[flat[i], flat[i + 1]] for i in range(0, len(flat) - 2, 3) if flat[i + 2] > 0]
        if visible:
            shapes.append(Shape(id=f"{entry.id}-keypoints", type="points", points=visible, **extra))
    if not shapes:
        raise ValueError("neither bbox, segmentation nor keypoints")
    return shapes


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc)


def bbox_of(shape: Shape) -> list[float]:
    """A shape's bounding box [x, y, w, h] (a whole-image tag has none: [])."""
    if shape.bbox is not None:
        return list(shape.bbox)
    if not shape.points:
        return []
    xs = [point[0] for point in shape.points]
    ys = [point[1] for point in shape.points]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """Area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, [*points[1:], points[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2


def export_entries(
    shapes: Iterable[Shape], image_id: int, category_ids: dict[str, int], first_id: int
) -> list[dict[str, Any]]:
    """COCO ``annotations`` entries for one image's shapes, numbered from ``first_id``."""
    entries = []
    for offset, shape in enumerate(shapes):
        box = bbox_of(shape)
        entry: dict[str, Any] = {
            "id": first_id + offset,
            "image_id": image_id,
            "category_id": category_ids[shape.label],
            "bbox": box,
            "iscrowd": 0,
            "attributes": {"assetflow_id": shape.id, **(shape.attributes or {})},
        }
        if shape.type == "polygon" and shape.points:
            entry["segmentation"] = [[c for point in shape.points for c in point]]
            entry["area"] = polygon_area(shape.points)
        elif shape.type == "points" and shape.points:
            entry["keypoints"] = [c for point in shape.points for c in (*point, 2)]
            entry["num_keypoints"] = len(shape.points)
            entry["area"] = box[2] * box[3] if box else 0.0
        else:
            entry["segmentation"] = []
            entry["area"] = box[2] * box[3] if box else 0.0
        if shape.score is not None:
            entry["score"] = shape.score
        entries.append(entry)
    return entries
