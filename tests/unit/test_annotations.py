"""Annotation shapes, their validation and summary, COCO in and out, If-Match parsing."""

import math
from typing import Any

import pytest
from pydantic import ValidationError

from assetflow.api.routes.annotations import expected_revision
from assetflow.contracts.errors import InvalidRequestError, PreconditionRequiredError
from assetflow.domain.annotating import validate
from assetflow.domain.coco import CocoFile, export_entries, orphans, polygon_area, read_coco
from assetflow.readmodel import counters
from assetflow.readmodel.annotations import (
    EMPTY_HASH,
    Shape,
    content_hash,
    label_summary,
    outside,
    patched,
)
from assetflow.readmodel.images import F


def box(shape_id: str = "a", label: str = "cat", *bbox: float) -> Shape:
    return Shape(id=shape_id, type="bbox", label=label, bbox=list(bbox or (1, 2, 30, 40)))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "bbox", "bbox": [0, 0, math.inf, 1]}, "finite"),
        ({"type": "bbox", "bbox": [0, 0, -1, 1]}, "greater than or equal to 0"),
        ({"type": "bbox", "bbox": [0, 0, 1]}, "bbox.3\n  Field required"),
        ({"type": "bbox", "bbox": [0, 0, 1, "2"]}, "valid number"),
        ({"type": "bbox"}, "needs bbox"),
        ({"type": "bbox", "bbox": [0, 0, 1, 1], "points": [[0, 0]]}, "has no points"),
        ({"type": "polygon", "points": [[0, 0], [1, 1]]}, "at least 3 points"),
        ({"type": "points", "points": []}, "at least 1 point"),
        ({"type": "points", "points": [[0, 0, 0]]}, "at most 2 items"),
        ({"type": "tag", "bbox": [0, 0, 1, 1]}, "has no bbox"),
        ({"type": "tag", "label": "a,b"}, "should match pattern"),
        ({"type": "tag", "score": math.nan}, "finite"),
        ({"type": "tag", "attributes": {"x": math.inf}}, "finite"),
        ({"type": "circle"}, "type"),
        ({"type": "tag", "colour": "red"}, "Extra inputs"),
    ],
)
def test_invalid_shapes_say_why(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Shape.model_validate({"id": "s1", "label": "cat"} | body)
    assert message in str(raised.value)


def test_labels_are_normalised_like_tags() -> None:
    shape = Shape(id="s", type="tag", label="  Dög ")
    assert shape.label == "dög"


def test_a_shape_must_fit_the_image() -> None:
    assert outside(box("a", "cat", 0, 0, 100, 50), 100, 50) is None
    assert "outside the 100x50 image" in (outside(box("a", "cat", 1, 0, 100, 50), 100, 50) or "")
    polygon = Shape(id="p", type="polygon", label="x", points=[[0, 0], [10, 0], [10, 51]])
    assert "point [10.0, 51.0]" in (outside(polygon, 100, 50) or "")


def test_set_rules_need_unique_ids_and_the_image_size_when_known() -> None:
    with pytest.raises(InvalidRequestError, match="repeated: \\['a'\\]"):
        validate([box("a"), box("a")], None, None)
    with pytest.raises(InvalidRequestError, match="outside"):
        validate([box("a", "cat", 0, 0, 200, 10)], 100, 100)
    validate([box("a", "cat", 0, 0, 200, 10)], None, None)  # size unknown while pending


def test_patch_deletes_then_upserts_by_id() -> None:
    current = [box("a", "cat"), box("b", "dog"), box("c", "cat")]
    result = patched(current, [box("b", "bird"), box("d", "cat")], ["c", "missing"])
    assert [(s.id, s.label) for s in result] == [("a", "cat"), ("b", "bird"), ("d", "cat")]


def test_label_summary_and_content_hash() -> None:
    shapes = [box("a", "cat"), box("b", "dog"), box("c", "cat")]
    assert label_summary(shapes) == [{"label": "cat", "shapes": 2}, {"label": "dog", "shapes": 1}]
    assert content_hash(shapes) == content_hash(
        [Shape.model_validate(s.model_dump()) for s in shapes]
    )
    assert content_hash(shapes) != content_hash(shapes[::-1])
    assert content_hash([]) == EMPTY_HASH


def test_labels_move_counters_like_tags() -> None:
    image = {F.DATASET_ID: "d", F.DELETED: False, F.SIZE: 1, F.TAGS: [], F.STATUS: "ready"}
    before = image | {F.LABELS: [{"label": "cat", "shapes": 2}]}
    after = image | {F.LABELS: [{"label": "cat", "shapes": 1}, {"label": "dog", "shapes": 3}]}
    deltas = counters.CounterDeltas()
    deltas.move(counters.contribution(before), counters.contribution(after))
    assert deltas.label_shapes == {("d", "cat"): -1, ("d", "dog"): 3}
    assert deltas.label_images == {("d", "cat"): 0, ("d", "dog"): 1}
    assert not +deltas.images and not +deltas.tags  # (+ drops zero entries)
    updates = [u._doc for u in deltas.label_updates()]
    assert [u["$inc"] for u in updates] == [{"shapes": -1}, {"shapes": 3, "images": 1}]
    gone = counters.CounterDeltas()
    gone.move(counters.contribution(after), None)  # a deleted image leaves every label count
    assert gone.label_shapes == {("d", "cat"): -1, ("d", "dog"): -3}


@pytest.mark.parametrize(
    ("header", "revision"), [('"0"', 0), ('"17"', 17), ("17", 17), ('W/"3"', 3), ("*", None)]
)
def test_if_match_names_a_revision(header: str, revision: int | None) -> None:
    assert expected_revision(header) == revision


def test_if_match_missing_or_malformed() -> None:
    with pytest.raises(PreconditionRequiredError):
        expected_revision(None)
    with pytest.raises(InvalidRequestError, match="If-Match must be a revision"):
        expected_revision('"abc"')


COCO: dict[str, Any] = {
    "images": [
        {"id": 1, "file_name": "a/1.jpg", "width": 100, "height": 80},
        {"id": 2, "file_name": "b.jpg"},
        {"id": 3, "file_name": "c.jpg"},
    ],
    "categories": [{"id": 7, "name": "Cat"}, {"id": 8, "name": "dog"}],
    "annotations": [
        {"id": 10, "image_id": 1, "category_id": 7, "bbox": [1, 2, 3, 4]},
        {
            "id": 11,
            "image_id": 1,
            "category_id": 8,
            "bbox": [0, 0, 10, 10],
            "segmentation": [[0, 0, 10, 0, 10, 10]],
        },
        {"id": 12, "image_id": 2, "category_id": 9, "bbox": [1, 1, 1, 1]},
        {"id": 13, "image_id": 2, "category_id": 7, "bbox": [1, 1, 1, 1]},
        {"id": 14, "image_id": 3, "category_id": 7, "segmentation": {"counts": "x"}, "iscrowd": 1},
        {"id": 15, "image_id": 99, "category_id": 7, "bbox": [1, 1, 1, 1]},
    ],
}


def test_coco_import_turns_entries_into_shapes_and_names_every_problem() -> None:
    coco = CocoFile.model_validate(COCO)
    read = {item.file_name: item for item in read_coco(coco)}
    first = read["a/1.jpg"]
    assert [(s.id, s.type, s.label) for s in first.shapes] == [
        ("10", "bbox", "cat"),
        ("11", "polygon", "dog"),
    ]
    assert first.shapes[1].points == [(0, 0), (10, 0), (10, 10)]
    assert read["b.jpg"].errors == ["annotation 12: category 9 is not in 'categories'"]
    assert read["c.jpg"].errors == ["annotation 14: RLE segmentation (iscrowd) has no shape here"]
    assert orphans(coco) == ["15"]


def test_coco_export_round_trips_through_import() -> None:
    shapes = [
        box("a", "cat", 1, 2, 3, 4),
        Shape(id="p", type="polygon", label="dog", points=[[0, 0], [4, 0], [4, 3]], score=0.5),
    ]
    entries = export_entries(shapes, image_id=1, category_ids={"cat": 1, "dog": 2}, first_id=5)
    assert [e["id"] for e in entries] == [5, 6]
    assert entries[1]["bbox"] == [0, 0, 4, 3] and entries[1]["area"] == 6.0
    coco = CocoFile.model_validate(
        {
            "images": [{"id": 1, "file_name": "x.jpg"}],
            "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
            "annotations": entries,
        }
    )
    again = read_coco(coco)[0].shapes
    assert [(s.type, s.label, s.bbox, s.points, s.score) for s in again] == [
        (s.type, s.label, s.bbox, s.points, s.score) for s in shapes
    ]


def test_polygon_area() -> None:
    assert polygon_area([[0, 0], [4, 0], [4, 3], [0, 3]]) == 12.0
