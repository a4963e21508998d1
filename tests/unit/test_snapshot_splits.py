"""Snapshots laid out by train/val/test split, built with in-memory fakes (no broker, no database).

A dataset with splits gets one COCO file per split (images stay in ``images/``), or YOLO's
``images/<split>`` and ``labels/<split>`` with a ``data.yaml`` naming them; one without keeps
the layout it had before splits existed. Moving an image to another split is a change.
"""

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from assetflow.contracts.events import Split
from assetflow.domain.coco import CocoFile, read_coco
from assetflow.readmodel.annotations import Shape
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from assetflow.readmodel.snapshots import ContentHasher, ManifestEntry, S, zip_key
from assetflow.snapshotter.building import Builder
from assetflow.snapshotter.entries import SnapshotEntry
from assetflow.snapshotter.layout import Layout
from assetflow.snapshotter.settings import SnapshotterOptions
from assetflow.snapshotter.store import MongoSnapshotStore
from tests.support.snapshotter_fakes import FakeOriginals, FakeS3, FakeSnapshotStore

BUCKET = "datasets"
DATASET = "cats"
CAT = Shape(id="c", type="bbox", label="cat", bbox=(1, 2, 10, 20))
DOG = Shape(id="d", type="bbox", label="dog", bbox=(4, 4, 8, 8))
# path -> (split, shapes), in key order
SPLIT_DATASET: dict[str, tuple[Split | None, list[Shape]]] = {
    "a/1.jpg": ("train", [CAT]),
    "a/2.png": ("val", [DOG]),
    "b/3.jpg": ("test", []),
    "b/4.jpg": (None, [CAT, DOG]),
    "c/5.jpg": ("train", []),
}
# Before splits existed the API stored these keys only.
OLD_WHERE: dict[str, Any] = {
    "folder": None,
    "status": None,
    "tags": [],
    "match": "all",
    "untagged": False,
}


class App:
    """A builder over fakes, and the zips it wrote."""

    def __init__(self, dataset: dict[str, tuple[Split | None, list[Shape]]]) -> None:
        self.s3 = FakeS3()
        self.store = FakeSnapshotStore()
        self.bodies = {path: f"bytes of {path}".encode() for path in dataset}
        for path, (split, shapes) in dataset.items():
            body, own = self.bodies[path], shapes or None
            self.store.add_image(
                self.s3, BUCKET, DATASET, path, body, size=(64, 48), shapes=own, split=split
            )
        originals = FakeOriginals(self.s3, BUCKET)
        self.builder = Builder(
            self.store, self.s3, originals, BUCKET, SnapshotterOptions(), lambda _: None
        )

    def build(self, snapshot_id: str, format_: str = "coco", where: Any = None) -> str:
        self.store.add_request(snapshot_id, DATASET, format_, where)
        return self.builder.run(snapshot_id)

    def zip(self, version: int) -> zipfile.ZipFile:
        return zipfile.ZipFile(io.BytesIO(self.s3.objects[(BUCKET, zip_key(DATASET, version))]))


def test_coco_with_splits_writes_one_file_per_split_and_keeps_the_images_in_place() -> None:
    app = App(SPLIT_DATASET)

    assert app.build("s1") == "ready"

    archive = app.zip(1)
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "annotations/instances_test.json",
        "annotations/instances_train.json",
        "annotations/instances_unassigned.json",
        "annotations/instances_val.json",
        "images/a/1.jpg",
        "images/a/2.png",
        "images/b/3.jpg",
        "images/b/4.jpg",
        "images/c/5.jpg",
        "manifest.jsonl",
        "snapshot.json",
    ]
    files = {
        group: json.loads(archive.read(f"annotations/instances_{group}.json"))
        for group in ("train", "val", "test", "unassigned")
    }
    images = {g: [(i["id"], i["file_name"]) for i in c["images"]] for g, c in files.items()}
    assert images == {  # ids are manifest positions: one id per image across the files
        "train": [(1, "a/1.jpg"), (5, "c/5.jpg")],
        "val": [(2, "a/2.png")],
        "test": [(3, "b/3.jpg")],
        "unassigned": [(4, "b/4.jpg")],
    }
    for _, file_name in (pair for pairs in images.values() for pair in pairs):
        assert archive.read(f"images/{file_name}") == app.bodies[file_name]
    categories = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]
    assert all(coco["categories"] == categories for coco in files.values())
    names = {c["id"]: c["name"] for c in categories}
    notes = {
        group: [(a["image_id"], names[a["category_id"]], a["bbox"]) for a in coco["annotations"]]
        for group, coco in files.items()
    }
    assert notes == {
        "train": [(1, "cat", [1, 2, 10, 20])],
        "val": [(2, "dog", [4, 4, 8, 8])],
        "test": [],
        "unassigned": [(4, "cat", [1, 2, 10, 20]), (4, "dog", [4, 4, 8, 8])],
    }
    ids = [a["id"] for coco in files.values() for a in coco["annotations"]]
    assert sorted(ids) == [1, 2, 3, 4]  # unique across the files
    for group, coco in files.items():  # each file reads back as the importer reads COCO
        shapes = {i.file_name: [s.label for s in i.shapes] for i in read_coco(CocoFile(**coco))}
        assert shapes == {
            path: [s.label for s in own]
            for path, (split, own) in SPLIT_DATASET.items()
            if (split or "unassigned") == group
        }
    assert app.store.requests["s1"][S.SHAPES] == 4
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [(m["path"], m["split"], m["file"]) for m in manifest] == [
        (path, split, f"images/{path}") for path, (split, _) in SPLIT_DATASET.items()
    ]


def test_yolo_with_splits_puts_images_and_labels_under_their_split() -> None:
    app = App(SPLIT_DATASET)

    assert app.build("s1", "yolo") == "ready"

    archive = app.zip(1)
    placed = {
        "a/1.jpg": "train/a/1",
        "a/2.png": "val/a/2",
        "b/3.jpg": "test/b/3",
        "b/4.jpg": "unassigned/b/4",
        "c/5.jpg": "train/c/5",
    }
    images = {f"images/{placed[p]}{p[p.rindex('.') :]}": p for p in placed}
    labels = [f"labels/{stem}.txt" for stem in placed.values()]
    assert sorted(archive.namelist()) == sorted(
        [*images, *labels, "data.yaml", "manifest.jsonl", "snapshot.json"]
    )
    for name, path in images.items():
        assert archive.read(name) == app.bodies[path]
    cx, cy, w, h = (1 + 10 / 2) / 64, (2 + 20 / 2) / 48, 10 / 64, 20 / 48
    cat = f"0 {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
    dog = f"1 {8 / 64:.6f} {8 / 48:.6f} {8 / 64:.6f} {8 / 48:.6f}"
    assert {n: archive.read(n).decode() for n in labels} == {
        "labels/train/a/1.txt": cat,
        "labels/val/a/2.txt": dog,
        "labels/test/b/3.txt": "",
        "labels/unassigned/b/4.txt": f"{cat}\n{dog}",
        "labels/train/c/5.txt": "",
    }
    text = archive.read("data.yaml").decode()
    assert yaml.safe_load(text) == {
        "path": ".",
        "train": "images/train",
        "val": "images/val",
        "test": "images/test",
        "names": {0: "cat", 1: "dog"},
    }
    assert "# images/unassigned holds the images in no split" in text
    manifest = [json.loads(line) for line in archive.read("manifest.jsonl").splitlines()]
    assert [m["file"] for m in manifest] == list(images)


@pytest.mark.parametrize(
    ("groups", "expected", "empty"),
    [
        ({"train": 2, "test": 1}, {"train": "images/train", "val": "images/train"}, ["val"]),
        ({"val": 2}, {"train": "images/val", "val": "images/val"}, ["train"]),
        (
            {"test": 1, "unassigned": 3},
            {"train": "images/test", "val": "images/test"},
            ["train", "val"],
        ),
    ],
)
def test_data_yaml_points_a_missing_train_or_val_at_a_split_that_has_images(
    groups: dict[str, int], expected: dict[str, str], empty: list[str]
) -> None:
    text = Layout("yolo", groups).data_yaml([("cat", 0)])

    parsed = yaml.safe_load(text)
    assert {k: parsed[k] for k in ("train", "val")} == expected
    assert ("test" in parsed) == ("test" in groups)
    assert [key for key in ("train", "val") if f"# no image is in {key};" in text] == empty
    assert parsed["names"] == {0: "cat"}


def test_yolo_with_train_only_points_val_at_train() -> None:
    app = App({"x/1.jpg": ("train", [CAT]), "x/2.jpg": ("train", [])})

    assert app.build("s1", "yolo") == "ready"

    archive = app.zip(1)
    assert sorted(archive.namelist()) == [
        "data.yaml",
        "images/train/x/1.jpg",
        "images/train/x/2.jpg",
        "labels/train/x/1.txt",
        "labels/train/x/2.txt",
        "manifest.jsonl",
        "snapshot.json",
    ]
    text = archive.read("data.yaml").decode()
    assert yaml.safe_load(text)["val"] == "images/train"
    assert "unassigned" not in text and "test" not in text


@pytest.mark.parametrize("split", ["train", None])
def test_moving_an_image_to_another_split_is_a_new_version(split: Split | None) -> None:
    app = App(SPLIT_DATASET)
    assert app.build("s1") == "ready"
    assert app.build("s2") == "unchanged"

    app.store.move("a/2.png", split)
    assert app.build("s3") == "ready"
    assert app.build("s4") == "unchanged"

    first, moved = app.store.requests["s1"], app.store.requests["s3"]
    assert (moved[S.VERSION], app.store.requests["s4"][S.BASED_ON]) == (2, 2)
    assert first[S.CONTENT_ID] != moved[S.CONTENT_ID]
    names = set(app.zip(2).namelist())
    assert "annotations/instances_val.json" not in names  # val is empty now
    group = split or "unassigned"
    coco = json.loads(app.zip(2).read(f"annotations/instances_{group}.json"))
    assert "a/2.png" in [image["file_name"] for image in coco["images"]]


def test_a_dataset_without_splits_keeps_the_earlier_layout_and_content_ids() -> None:
    dataset: dict[str, tuple[Split | None, list[Shape]]] = {
        "a/1.jpg": (None, [CAT]),
        "b/2.png": (None, []),
    }
    app = App(dataset)

    assert app.build("s1", "coco", OLD_WHERE) == "ready"
    assert app.build("s2", "yolo") == "ready"

    assert sorted(app.zip(1).namelist()) == [
        "annotations.json",
        "images/a/1.jpg",
        "images/b/2.png",
        "manifest.jsonl",
        "snapshot.json",
    ]
    coco = json.loads(app.zip(1).read("annotations.json"))
    assert [i["file_name"] for i in coco["images"]] == ["a/1.jpg", "b/2.png"]
    manifest = [json.loads(line) for line in app.zip(1).read("manifest.jsonl").splitlines()]
    assert {tuple(sorted(m)) for m in manifest} == {
        ("annotation_revision", "etag", "path", "sha256", "size")
    }
    assert sorted(app.zip(2).namelist()) == [
        "data.yaml",
        "images/a/1.jpg",
        "images/b/2.png",
        "labels/a/1.txt",
        "labels/b/2.txt",
        "manifest.jsonl",
        "snapshot.json",
    ]
    assert app.zip(2).read("data.yaml").decode() == (
        'path: .\ntrain: images\nval: images\nnames:\n  0: "cat"\n'
    )
    # The content id is the one a build before splits gave (plain entries, the old filter).
    hasher = ContentHasher("coco", OLD_WHERE)
    hasher.add(ManifestEntry(**e.entry.model_dump(exclude={"split"})) for e in app.store.images)
    assert app.store.requests["s1"][S.CONTENT_ID] == hasher.hexdigest()


def test_a_request_stored_before_the_new_filters_is_built_and_equals_one_with_them() -> None:
    app = App(SPLIT_DATASET)

    assert app.build("old", "coco", OLD_WHERE) == "ready"
    assert app.build("new", "coco", ListingFilter().as_json()) == "unchanged"
    assert app.build("train", "coco", ListingFilter(split="train").as_json()) == "ready"
    assert app.build("none", "coco", ListingFilter(split="none").as_json()) == "ready"

    assert app.store.requests["new"][S.BASED_ON] == 1
    only_train = app.zip(2)
    assert [n for n in only_train.namelist() if not n.startswith("images/")] == [
        "annotations/instances_train.json",
        "manifest.jsonl",
        "snapshot.json",
    ]
    assert sorted(n for n in only_train.namelist() if n.startswith("images/")) == [
        "images/a/1.jpg",
        "images/c/5.jpg",
    ]
    # The images in no split alone: no image has a split, so the earlier layout.
    assert "annotations.json" in app.zip(3).namelist()


class _Found:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self._docs = docs

    def sort(self, key: str, direction: int) -> Iterator[dict[str, Any]]:
        return iter(sorted(self._docs, key=lambda doc: doc[key]))


class _Collection:
    """The few PyMongo calls the snapshot store makes, over a list."""

    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.projections: list[Any] = []

    def find(self, query: dict[str, Any], projection: Any = None) -> _Found:
        self.projections.append(projection)
        return _Found(self.docs)  # each collection here holds one build's documents

    def replace_one(self, where: dict[str, Any], doc: dict[str, Any], upsert: bool) -> None:
        self.docs = [d for d in self.docs if d["_id"] != where["_id"]] + [where | doc]


def test_the_mongo_store_reads_each_split_and_keeps_stored_entries_readable_by_the_api() -> None:
    collections: dict[str, _Collection] = {}
    db: Any = type("Db", (), {"__getitem__": lambda _, n: collections.setdefault(n, _Collection())})
    store = MongoSnapshotStore(db())
    image = {F.PATH: "a.jpg", F.ID: "i1", F.KEY: "cats/images/a.jpg", F.ETAG: "e", F.SIZE: 3}
    collections["images"] = _Collection()
    collections["images"].docs = [
        image | {F.SPLIT: "val"},
        image | {F.ID: "i2", F.KEY: "cats/images/b.jpg", F.PATH: "b.jpg"},  # indexed before
    ]

    selected = list(store.selection(BUCKET, DATASET, ListingFilter()))
    store.store_chunk("s1", 0, selected)

    assert [e.split for e in selected] == ["val", None]
    assert collections["images"].projections[0][F.SPLIT] == 1
    [chunk] = collections["snapshot_manifests"].docs
    assert chunk["splits"] == ["val", None]
    for stored in chunk["entries"]:  # as the API's diff reads them
        ManifestEntry.model_validate(stored)
    [(_, read)] = list(store.chunks("s1"))
    assert read == selected and all(isinstance(e, SnapshotEntry) for e in read)
