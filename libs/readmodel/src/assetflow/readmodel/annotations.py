"""Image annotations: the shape model, its validation, and the per-image summary the index keeps.

One document per annotated image in ``annotations`` (id = image id), written only by the
API under a revision check. The image document carries a summary of it (revision, content
hash, shapes per label), so label counts move with the image like tag counts do, and a
snapshot manifest needs the images collection alone.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pymongo import ASCENDING, DESCENDING, IndexModel

from assetflow.contracts.tags import TAG_PATTERN, InvalidTagError, normalize_tag

COLLECTION: Final = "annotations"
LABEL_COUNTS: Final = "label_counts"
MAX_SHAPES: Final = 10_000
MAX_POINTS: Final = 10_000
MAX_ATTRIBUTES: Final = 64
EDGE_TOLERANCE: Final = 1e-6  # float rounding at the image's right and bottom edges

ShapeType = Literal["bbox", "polygon", "points", "tag"]
# No control characters (BSON keys cannot hold NUL) and no leading '$' (an operator).
_ATTRIBUTE_NAME = r"^[^\x00-\x1f$][^\x00-\x1f]*$"
AttributeName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=_ATTRIBUTE_NAME)
]
# Strict numbers: "1" or true is not a coordinate; JSON integers are accepted as floats.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Size = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
Point = tuple[Number, Number]
AttributeValue = (
    Annotated[str, StringConstraints(max_length=1024)]
    | Annotated[int, Field(strict=True)]
    | Number
    | Annotated[bool, Field(strict=True)]
    | None
)
_ATTRIBUTES_SCHEMA = {
    "type": "object",
    "maxProperties": MAX_ATTRIBUTES,
    "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": _ATTRIBUTE_NAME},
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "maxLength": 1024},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
        ]
    },
}
# pydantic would state the name rule as patternProperties, which lets other names through.
Attributes = Annotated[
    dict[AttributeName, AttributeValue],
    Field(max_length=MAX_ATTRIBUTES),
    WithJsonSchema(_ATTRIBUTES_SCHEMA),
]
ShapeId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")
]


class A:
    """Field names of an annotation document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    REVISION: Final = "revision"
    SHAPES: Final = "shapes"
    UPDATED_AT: Final = "updated_at"


class L:
    """Field names of a label counter document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    LABEL: Final = "label"
    SHAPES: Final = "shapes"
    IMAGES: Final = "images"


LABEL_INDEXES: Final = (
    IndexModel([(L.DATASET_ID, ASCENDING), (L.SHAPES, DESCENDING)], name="by_dataset"),
)
INDEXES: Final = (IndexModel([(A.DATASET_ID, ASCENDING)], name="by_dataset"),)


def label_count_id(dataset_id: str, label: str) -> str:
    """Id of a (dataset, label) counter; a dataset id never contains '/'."""
    return f"{dataset_id}/{label}"


def _variant(kind: str, *, bbox: bool = False, points: int | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"type": {"const": kind}}
    properties["bbox"] = {"type": "array"} if bbox else {"type": "null"}
    properties["points"] = {"type": "array", "minItems": points} if points else {"type": "null"}
    required = ["type"] + (["bbox"] if bbox else []) + (["points"] if points else [])
    return {"properties": properties, "required": required}


# The geometry each type takes, stated in the schema too (clients and fuzzers read it).
_GEOMETRY: dict[str, Any] = {
    "oneOf": [
        _variant("bbox", bbox=True),
        _variant("polygon", points=3),
        _variant("points", points=1),
        _variant("tag"),
    ]
}


class Shape(BaseModel):
    """One annotation: a box, a polygon, points or a whole-image tag, with its label."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_GEOMETRY)

    id: ShapeId
    type: ShapeType
    label: str = Field(
        min_length=1, max_length=64, pattern=TAG_PATTERN, description="normalised like a tag"
    )
    bbox: tuple[Number, Number, Size, Size] | None = Field(
        default=None, description="[x, y, width, height] in pixels of the displayed image"
    )
    points: list[Point] | None = Field(
        default=None, max_length=MAX_POINTS, description="[[x, y], ...] in pixels"
    )
    score: Number | None = None
    attributes: Attributes | None = None

    @field_validator("label")
    @classmethod
    def _normalise_label(cls, value: str) -> str:
        try:
            return normalize_tag(value)
        except InvalidTagError as exc:
            raise ValueError(str(exc)) from exc

    @model_validator(mode="after")
    def _geometry_matches_type(self) -> "Shape":
        needs = {"bbox": "bbox", "polygon": "points", "points": "points", "tag": None}[self.type]
        for name in ("bbox", "points"):
            present = getattr(self, name) is not None
            if present and name != needs:
                raise ValueError(f"a {self.type} shape has no {name}")
            if not present and name == needs:
                raise ValueError(f"a {self.type} shape needs {name}")
        if self.type == "polygon" and len(self.points or []) < 3:
            raise ValueError("a polygon needs at least 3 points")
        if self.type == "points" and not self.points:
            raise ValueError("a points shape needs at least 1 point")
        return self


def outside(shape: Shape, width: int, height: int) -> str | None:
    """Why ``shape`` does not fit a ``width`` x ``height`` image, or None when it does."""
    limit_x, limit_y = width + EDGE_TOLERANCE, height + EDGE_TOLERANCE
    if shape.bbox is not None:
        x, y, w, h = shape.bbox
        if x < 0 or y < 0 or x + w > limit_x or y + h > limit_y:
            return f"shape {shape.id!r}: bbox {shape.bbox} is outside the {width}x{height} image"
    for x, y in shape.points or ():
        if not (0 <= x <= limit_x and 0 <= y <= limit_y):
            return f"shape {shape.id!r}: point [{x}, {y}] is outside the {width}x{height} image"
    return None


def duplicate_ids(shapes: Sequence[Shape]) -> list[str]:
    """Shape ids used more than once, sorted."""
    counts = Counter(shape.id for shape in shapes)
    return sorted(shape_id for shape_id, n in counts.items() if n > 1)


def patched(
    current: Sequence[Shape], upsert: Sequence[Shape], delete: Iterable[str]
) -> list[Shape]:
    """``current`` with ``delete`` removed, then ``upsert`` replacing or adding by id."""
    gone = set(delete)
    by_id = {shape.id: shape for shape in current if shape.id not in gone}
    for shape in upsert:
        by_id[shape.id] = shape
    return list(by_id.values())


def label_summary(shapes: Iterable[Shape]) -> list[dict[str, Any]]:
    """Shapes per label, sorted by label: what the image document keeps."""
    counts = Counter(shape.label for shape in shapes)
    return [{"label": label, "shapes": n} for label, n in sorted(counts.items())]


def content_hash(shapes: Sequence[Shape]) -> str:
    """sha256 of the shapes in canonical JSON (order kept): a snapshot's annotation identity."""
    body = json.dumps(
        [shape.model_dump(exclude_none=True) for shape in shapes],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


EMPTY_HASH: Final = content_hash([])
