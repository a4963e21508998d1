"""Pascal VOC and Hugging Face ``imagefolder`` snapshots, built with in-memory fakes.

VOC: every image under ``JPEGImages/``, one XML per image (1-based inclusive boxes), image
sets per split; HF: one folder per split with ``metadata.jsonl`` and a card naming the
classes. Both with splits and without, coordinates exact, the format in the content id.
"""

import json
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest
import yaml

from assetflow.contracts.events import Split
from assetflow.domain.voc import VocIds, read_voc, voc_xml
from assetflow.readmodel.annotations import Shape
from assetflow.readmodel.snapshots import S
from tests.unit.test_snapshot_splits import SPLIT_DATASET, App

TRIANGLE = Shape(id="t", type="polygon", label="cat", points=[(2, 3), (12.5, 3), (7, 9.25)])
TAG = Shape(id="g", type="tag", label="night")
DOT = Shape(id="p", type="points", label="eye", points=[(5, 5)])
FRACTION = Shape(id="f", type="bbox", label="dog", bbox=(0.25, 1.5, 10.5, 20.125))
NO_SPLITS: dict[str, tuple[Split | None, list[Shape]]] = {
    "a/1.jpg": (None, [TRIANGLE, TAG, DOT]),
    "a/1.png": (None, [FRACTION]),
    "b.jpg": (None, []),
}


def voc_objects(archive: zipfile.ZipFile, name: str) -> list[tuple[str, list[str]]]:
    """(label, [xmin, ymin, xmax, ymax] as written) of one annotation file."""
    root = ET.fromstring(archive.read(name))
    return [
        (
            item.findtext("name") or "",
            [item.findtext(f"bndbox/{c}") or "" for c in ("xmin", "ymin", "xmax", "ymax")],
        )
        for item in root.iter("object")
    ]


def lines(archive: zipfile.ZipFile, name: str) -> list[str]:
    return archive.read(name).decode().splitlines()


def test_voc_with_splits_keeps_folders_and_lists_each_split() -> None:
    app = App(SPLIT_DATASET)

    assert app.build("s1", "voc") == "ready"

    archive = app.zip(1)
    ids = {"a/1.jpg": "a/1", "a/2.png": "a/2.png", "b/3.jpg": "b/3", "b/4.jpg": "b/4"}
    ids["c/5.jpg"] = "c/5"
    sets = ["train", "val", "test", "unassigned", "trainval"]
    assert sorted(archive.namelist()) == sorted(
        [f"JPEGImages/{p}" for p in SPLIT_DATASET]
        + [f"Annotations/{i}.xml" for i in ids.values()]
        + [f"ImageSets/Main/{name}.txt" for name in sets]
        + ["labels.txt", "manifest.jsonl", "snapshot.json"]
    )
    for path in SPLIT_DATASET:
        assert archive.read(f"JPEGImages/{path}") == app.bodies[path]
    assert {name: lines(archive, f"ImageSets/Main/{name}.txt") for name in sets} == {
        "train": ["a/1", "c/5"],
        "val": ["a/2.png"],
        "test": ["b/3"],
        "unassigned": ["b/4"],
        "trainval": ["a/1", "a/2.png", "c/5"],
    }
    # CAT is [1, 2, 10, 20], DOG [4, 4, 8, 8]: VOC's 1-based inclusive corners.
    cat, dog = ("cat", ["2", "3", "11", "22"]), ("dog", ["5", "5", "12", "12"])
    objects = {path: voc_objects(archive, f"Annotations/{i}.xml") for path, i in ids.items()}
    assert objects == {
        "a/1.jpg": [cat],
        "a/2.png": [dog],
        "b/3.jpg": [],
        "b/4.jpg": [cat, dog],
        "c/5.jpg": [],
    }
    root = ET.fromstring(archive.read("Annotations/a/2.png.xml"))
    assert (root.findtext("filename"), root.findtext("size/width")) == ("a/2.png", "64")
    assert root.findtext("size/height") == "48"
    assert lines(archive, "labels.txt") == ["cat", "dog"]
    assert app.store.requests["s1"][S.SHAPES] == 4
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [(m["path"], m["split"], m["file"]) for m in manifest] == [
        (path, split, f"JPEGImages/{path}") for path, (split, _) in SPLIT_DATASET.items()
    ]


def test_voc_without_splits_has_one_default_set_and_exact_coordinates() -> None:
    app = App(NO_SPLITS)

    assert app.build("s1", "voc") == "ready"

    archive = app.zip(1)
    assert lines(archive, "ImageSets/Main/default.txt") == ["a/1", "a/1.png", "b"]
    assert not [n for n in archive.namelist() if n.startswith("ImageSets/Main/train")]
    # The polygon as its bounding box; the tag and the single point (no area) left out.
    assert voc_objects(archive, "Annotations/a/1.xml") == [("cat", ["3", "4", "12.5", "9.25"])]
    assert voc_objects(archive, "Annotations/a/1.png.xml") == [
        ("dog", ["1.25", "2.5", "10.75", "21.625"])
    ]
    back = read_voc(archive.read("Annotations/a/1.png.xml"))
    assert (back.filename, [s.bbox for s in back.shapes]) == ("a/1.png", [FRACTION.bbox])
    assert voc_objects(archive, "Annotations/b.xml") == []
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [(m["path"], m["file"]) for m in manifest] == [(p, f"JPEGImages/{p}") for p in NO_SPLITS]
    assert all("split" not in m for m in manifest)


def test_voc_ids_are_unique_and_a_plain_jpg_keeps_vocs_own_form() -> None:
    paths = ["a", "a.jpg", "a.png", "a.png.jpg", "b.JPG", "b.jpg", "c.jpeg", "d/e.jpg"]
    ids = VocIds()

    named = [ids(path) for path in paths]  # key order, as a manifest is

    assert named == ["a", "a.jpg", "a.png", "a.png.jpg", "b.JPG", "b", "c.jpeg", "d/e"]
    assert len(set(named)) == len(named)


def test_a_voc_file_of_an_image_of_unknown_size_has_no_size() -> None:
    root = ET.fromstring(voc_xml("x.jpg", None, None, [FRACTION]))
    assert root.find("size") is None and len(root.findall("object")) == 1


def test_hf_with_splits_has_a_folder_and_metadata_per_split() -> None:
    app = App(SPLIT_DATASET)

    assert app.build("s1", "hf") == "ready"

    archive = app.zip(1)
    folders = {"train": "train", "val": "val", "test": "test", None: "unassigned"}
    placed = {path: f"{folders[split]}/{path}" for path, (split, _) in SPLIT_DATASET.items()}
    assert sorted(archive.namelist()) == sorted(
        [*placed.values()]
        + [f"{f}/metadata.jsonl" for f in folders.values()]
        + ["README.md", "manifest.jsonl", "snapshot.json"]
    )
    for path, name in placed.items():
        assert archive.read(name) == app.bodies[path]
    rows = {
        f: [json.loads(line) for line in lines(archive, f"{f}/metadata.jsonl")]
        for f in folders.values()
    }
    cat = [1.0, 2.0, 10.0, 20.0]
    dog = [4.0, 4.0, 8.0, 8.0]
    empty: dict[str, list[Any]] = {"bbox": [], "categories": []}
    assert rows == {
        "train": [
            {"file_name": "a/1.jpg", "width": 64, "height": 48,
             "objects": {"bbox": [cat], "categories": [0]}},
            {"file_name": "c/5.jpg", "width": 64, "height": 48, "objects": empty},
        ],
        "val": [
            {"file_name": "a/2.png", "width": 64, "height": 48,
             "objects": {"bbox": [dog], "categories": [1]}},
        ],
        "test": [{"file_name": "b/3.jpg", "width": 64, "height": 48, "objects": empty}],
        "unassigned": [
            {"file_name": "b/4.jpg", "width": 64, "height": 48,
             "objects": {"bbox": [cat, dog], "categories": [0, 1]}},
        ],
    }  # fmt: skip
    assert hf_names(archive) == ["cat", "dog"]
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [m["file"] for m in manifest] == list(placed.values())


def hf_names(archive: zipfile.ZipFile) -> list[str]:
    """The class names the dataset card's ``categories`` feature lists, by index."""
    card = archive.read("README.md").decode()
    info = yaml.safe_load(card.split("---")[1])["dataset_info"]
    objects = next(f for f in info["features"] if f["name"] == "objects")["struct"]
    categories = next(f for f in objects if f["name"] == "categories")
    names = categories["list"]["class_label"]["names"]
    return [names[str(i)] for i in range(len(names))]


def test_hf_without_splits_puts_every_image_in_train() -> None:
    app = App(NO_SPLITS)

    assert app.build("s1", "hf") == "ready"

    archive = app.zip(1)
    rows = [json.loads(line) for line in lines(archive, "train/metadata.jsonl")]
    assert [r["file_name"] for r in rows] == list(NO_SPLITS)
    assert [r["objects"] for r in rows] == [
        {"bbox": [[2.0, 3.0, 10.5, 6.25]], "categories": [0]},
        {"bbox": [[0.25, 1.5, 10.5, 20.125]], "categories": [1]},
        {"bbox": [], "categories": []},
    ]
    assert hf_names(archive) == ["cat", "dog"]
    assert sorted(n for n in archive.namelist() if n.startswith("train/")) == [
        "train/a/1.jpg",
        "train/a/1.png",
        "train/b.jpg",
        "train/metadata.jsonl",
    ]


@pytest.mark.parametrize("other", ["yolo", "voc", "hf"])
def test_the_format_is_in_the_content_id(other: str) -> None:
    app = App(SPLIT_DATASET)

    assert (app.build("s1", "coco"), app.build("s2", other), app.build("s3", other)) == (
        "ready",
        "ready",
        "unchanged",
    )

    first, second = app.store.requests["s1"], app.store.requests["s2"]
    assert first[S.CONTENT_ID] != second[S.CONTENT_ID]
    assert app.store.requests["s3"][S.CONTENT_ID] == second[S.CONTENT_ID]
