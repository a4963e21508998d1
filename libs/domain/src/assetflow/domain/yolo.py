"""YOLO labels read back (import): class names from ``data.yaml``, one text file per image.

A line is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...`` (a polygon, YOLO's
segmentation format), normalised to the image's displayed size; so the shapes of an image
are known only once the image's size is (its thumbnail made, in an import).
"""

from typing import Any

import yaml

from assetflow.readmodel.annotations import Shape


class YoloError(ValueError):
    """A ``data.yaml`` that names no classes; the message says why."""


def read_names(body: bytes) -> list[str]:
    """The class names of a ``data.yaml`` (``names`` as a list or as {index: name})."""
    try:
        parsed: Any = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise YoloError(f"data.yaml is not YAML: {exc}") from None
    names = parsed.get("names") if isinstance(parsed, dict) else None
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return names
    if isinstance(names, dict) and all(
        isinstance(k, int) and isinstance(v, str) for k, v in names.items()
    ):
        if sorted(names) != list(range(len(names))):
            raise YoloError("data.yaml: the names' indexes are not 0, 1, 2, ...")
        return [names[i] for i in range(len(names))]
    raise YoloError("data.yaml: 'names' is neither a list of names nor {index: name}")


def read_label(
    text: str, names: list[str], width: int, height: int, id_prefix: str = "yolo"
) -> tuple[list[Shape], list[str]]:
    """The shapes of one label file in pixels of a ``width`` x ``height`` image, and the
    reasons any line cannot be used."""
    shapes: list[Shape] = []
    errors: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            shapes.append(_shape(line.split(), names, width, height, f"{id_prefix}-{n}"))
        except ValueError as exc:
            errors.append(f"line {n}: {exc}")
    return shapes, errors


def _shape(fields: list[str], names: list[str], width: int, height: int, shape_id: str) -> Shape:
    if not fields[0].isdigit() or int(fields[0]) >= len(names):
        raise ValueError(f"class {fields[0]!r} is not in data.yaml's {len(names)} names")
    label = names[int(fields[0])]
    values = [float(value) for value in fields[1:]]
    # Six decimals of a normalised coordinate can land a hair outside the image: clamp.
    if len(values) == 4:
        cx, cy, w, h = values
        x0, x1 = _clamp((cx - w / 2) * width, width), _clamp((cx + w / 2) * width, width)
        y0, y1 = _clamp((cy - h / 2) * height, height), _clamp((cy + h / 2) * height, height)
        return Shape(id=shape_id, type="bbox", label=label, bbox=(x0, y0, x1 - x0, y1 - y0))
    if len(values) >= 6 and len(values) % 2 == 0:
        points = [
            (_clamp(values[i] * width, width), _clamp(values[i + 1] * height, height))
            for i in range(0, len(values), 2)
        ]
        return Shape(id=shape_id, type="polygon", label=label, points=points)
    raise ValueError(f"{len(values)} numbers: a box has 4, a polygon an even count of 6 or more")


def _clamp(value: float, limit: int) -> float:
    return min(max(value, 0.0), float(limit))
