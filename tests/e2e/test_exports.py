"""Snapshots in every format, loaded by their real consumers, and YOLO / VOC zips imported back.

One small dataset with boxes and a by-folder split (plus a folder in no split) is exported as
COCO, YOLO, Pascal VOC and Hugging Face ``imagefolder``; each zip is downloaded and read the
way training code reads it: pycocotools (``COCOeval`` of the ground truth against itself as
detections gives AP 1.0), ``datasets.load_dataset("imagefolder")``, and ``xml.etree`` over
``ImageSets/Main`` and ``Annotations``. The YOLO and VOC zips, imported into new datasets,
give back the same boxes.
"""

import contextlib
import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import httpx
import pytest
import yaml
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from tests.e2e.test_annotations import ready_images, url
from tests.e2e.test_imports import finished, start_import
from tests.e2e.test_splits import run_command
from tests.support import images
from tests.support.stack import ServiceProcess, put_object, s3_client, wait_for

Box = tuple[str, list[float]]
SIZES = {
    "train/0.jpg": (64, 48),
    "train/1.jpg": (80, 60),
    "train/2.png": (40, 30),
    "val/0.jpg": (64, 48),
    "val/1.jpg": (50, 50),
    "test/0.jpg": (64, 48),
    "misc/0.jpg": (30, 20),
}
BOXES: dict[str, list[Box]] = {
    "train/0.jpg": [("cat", [1, 2, 10, 20]), ("dog", [30.5, 10.25, 20, 15.5])],
    "train/1.jpg": [("cat", [0, 0, 80, 60])],  # the whole image: edges exact
    "train/2.png": [],
    "val/0.jpg": [("dog", [5, 5, 8, 8])],
    "val/1.jpg": [("cat", [12.75, 3.5, 20.5, 40])],
    "test/0.jpg": [("cat", [2, 2, 3, 3])],
    "misc/0.jpg": [("dog", [1, 1, 5, 5])],
}
SPLIT = {path: path.split("/")[0] for path in SIZES if not path.startswith("misc/")}


@dataclass(frozen=True)
class Exported:
    """The dataset every test here reads."""

    api: ServiceProcess
    dataset_id: str


@pytest.fixture(scope="module")
def exported(services: dict[str, ServiceProcess]) -> Exported:
    """Upload, annotate and split the dataset once for the module."""
    api, s3 = services["api"], s3_client()
    dataset_id = f"e2e-{uuid.uuid4().hex[:10]}"
    for path, (width, height) in SIZES.items():
        body = images.png(width, height) if path.endswith(".png") else images.jpeg(width, height)
        kind = "image/png" if path.endswith(".png") else "image/jpeg"
        put_object(s3, f"{dataset_id}/images/{path}", body, kind)
    items = {item["path"]: item for item in ready_images(api, dataset_id, len(SIZES))}
    for path, boxes in BOXES.items():
        if not boxes:
            continue
        shapes = [
            {"id": f"s{n}", "type": "bbox", "label": label, "bbox": box}
            for n, (label, box) in enumerate(boxes)
        ]
        response = httpx.put(
            url(api, f"/images/{items[path]['id']}/annotations"),
            json={"annotations": shapes},
            headers={"If-Match": '"0"'},
            timeout=10,
        )
        assert response.status_code == 200, response.text
    folders = {"mode": "folders", "folders": {"train": "train", "val": "val", "test": "test"}}
    assert run_command(api, dataset_id, folders)["matched"] == len(SPLIT)
    return Exported(api, dataset_id)


def snapshot(exported: Exported, fmt: str) -> bytes:
    """Request a snapshot in ``fmt``, wait until it is built, download the zip."""
    api, dataset_id = exported.api, exported.dataset_id
    response = httpx.post(
        url(api, f"/datasets/{dataset_id}/snapshots"), json={"format": fmt}, timeout=10
    )
    assert response.status_code == 202, response.text
    snapshot_id = response.json()["snapshot_id"]

    def built() -> dict[str, Any] | None:
        body = httpx.get(url(api, f"/snapshots/{snapshot_id}"), timeout=10).json()
        return body if body["status"] in ("ready", "unchanged", "failed") else None

    done = wait_for(f"the {fmt} snapshot", built, timeout=120, interval=0.5)
    assert (done["status"], done["format"]) == ("ready", fmt), done
    meta = httpx.get(url(api, f"/datasets/{dataset_id}/snapshots/{done['version']}"), timeout=10)
    return httpx.get(meta.json()["url"], timeout=60).content


def unzipped(body: bytes, where: Path) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    archive.extractall(where)
    return archive


def annotated(api: ServiceProcess, dataset_id: str, n: int) -> dict[str, list[Box]]:
    """Every image's boxes (label, bbox), by path, once ``n`` images are listed."""
    found = {}
    for item in ready_images(api, dataset_id, n):
        response = httpx.get(url(api, f"/images/{item['id']}/annotations"), timeout=10)
        assert response.status_code == 200, response.text
        found[item["path"]] = [(s["label"], s["bbox"]) for s in response.json()["annotations"]]
    return found


def assert_same_boxes(got: dict[str, list[Box]], want: dict[str, list[Box]], tol: float) -> None:
    assert sorted(got) == sorted(want)
    for path, boxes in want.items():
        assert [label for label, _ in got[path]] == [label for label, _ in boxes], path
        for (_, box), (_, expected) in zip(got[path], boxes, strict=True):
            assert box == pytest.approx(expected, abs=tol), path


@pytest.mark.e2e
def test_coco_per_split_loads_in_pycocotools_and_scores_ap_1_against_itself(
    exported: Exported, tmp_path: Path
) -> None:
    unzipped(snapshot(exported, "coco"), tmp_path)
    seen: dict[str, list[Box]] = {}
    for group in ("train", "val", "test", "unassigned"):
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints as it loads
            truth = COCO(str(tmp_path / f"annotations/instances_{group}.json"))
        names = {c["id"]: c["name"] for c in truth.loadCats(truth.getCatIds())}
        for image in truth.loadImgs(truth.getImgIds()):
            assert (tmp_path / "images" / image["file_name"]).is_file()
            assert (image["width"], image["height"]) == SIZES[image["file_name"]]
            notes = truth.loadAnns(truth.getAnnIds(imgIds=[image["id"]]))
            seen[image["file_name"]] = [(names[a["category_id"]], a["bbox"]) for a in notes]
        detections = [
            {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"]}
            | {"score": 1.0}
            for a in truth.loadAnns(truth.getAnnIds())
        ]
        with contextlib.redirect_stdout(io.StringIO()):
            evaluation = COCOeval(truth, truth.loadRes(detections), "bbox")
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
        assert evaluation.stats[0] == pytest.approx(1.0), group  # AP @ IoU .50:.95
    assert_same_boxes(seen, BOXES, tol=0)


@pytest.mark.e2e
def test_hugging_face_imagefolder_loads_with_its_splits_boxes_and_classes(
    exported: Exported, tmp_path: Path
) -> None:
    archive = unzipped(snapshot(exported, "hf"), tmp_path / "data")
    card = yaml.safe_load(archive.read("README.md").decode().split("---")[1])
    objects = next(f for f in card["dataset_info"]["features"] if f["name"] == "objects")
    listed = next(f for f in objects["struct"] if f["name"] == "categories")
    names = listed["list"]["class_label"]["names"]
    classes = [names[str(i)] for i in range(len(names))]
    assert sorted(classes) == ["cat", "dog"]
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "width": datasets.Value("int64"),
            "height": datasets.Value("int64"),
            "objects": {
                "bbox": datasets.List(datasets.List(datasets.Value("float64"))),
                "categories": datasets.List(datasets.ClassLabel(names=classes)),
            },
        }
    )

    loaded = datasets.load_dataset(
        "imagefolder",
        data_dir=str(tmp_path / "data"),
        features=features,
        cache_dir=str(tmp_path / "cache"),
    )

    assert isinstance(loaded, datasets.DatasetDict)
    expected_splits = {"train": "train", "validation": "val", "test": "test"}
    assert sorted(loaded) == sorted(expected_splits)
    seen: dict[str, list[Box]] = {}
    for split, folder in expected_splits.items():
        rows = loaded[split].cast_column("image", datasets.Image(decode=False))
        paths = []
        for row in rows:
            path = Path(row["image"]["path"]).relative_to(tmp_path / "data" / folder).as_posix()
            paths.append(path)
            assert (row["width"], row["height"]) == SIZES[path]
            pairs = zip(row["objects"]["categories"], row["objects"]["bbox"], strict=True)
            seen[path] = [(classes[c], box) for c, box in pairs]
        assert sorted(paths) == sorted(p for p, s in SPLIT.items() if s == folder)
    assert loaded["train"].features["objects"]["categories"].feature.names == classes
    assert_same_boxes(seen, {p: b for p, b in BOXES.items() if p in SPLIT}, tol=0)
    # Images in no split have their folder, which load_dataset leaves out.
    assert "unassigned/misc/0.jpg" in archive.namelist()


@pytest.mark.e2e
def test_pascal_voc_reads_with_xml_etree_and_imports_back(
    exported: Exported, tmp_path: Path
) -> None:
    body = snapshot(exported, "voc")
    unzipped(body, tmp_path)
    sets = {
        name: (tmp_path / f"ImageSets/Main/{name}.txt").read_text().split()
        for name in ("train", "val", "test", "unassigned", "trainval")
    }
    groups = defaultdict(list)
    for path in SIZES:
        groups[SPLIT.get(path, "unassigned")].append(path.removesuffix(".jpg"))  # VOC ids
    assert {k: sorted(v) for k, v in sets.items() if k != "trainval"} == {
        k: sorted(v) for k, v in groups.items()
    }
    assert sorted(sets["trainval"]) == sorted(groups["train"] + groups["val"])
    seen: dict[str, list[Box]] = {}
    for image_id in (i for name in ("train", "val", "test", "unassigned") for i in sets[name]):
        root = ET.parse(tmp_path / f"Annotations/{image_id}.xml").getroot()
        path = root.findtext("filename") or ""
        assert (tmp_path / "JPEGImages" / path).is_file()
        size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
        assert size == SIZES[path]
        seen[path] = []
        for item in root.iter("object"):
            xmin, ymin, xmax, ymax = (
                float(item.findtext(f"bndbox/{corner}") or "nan")
                for corner in ("xmin", "ymin", "xmax", "ymax")
            )
            box = [xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1]
            seen[path].append((item.findtext("name") or "", box))
    assert_same_boxes(seen, BOXES, tol=1e-6)

    back = import_zip(exported.api, body)
    assert_same_boxes(annotated(exported.api, back, len(SIZES)), BOXES, tol=1e-6)


@pytest.mark.e2e
def test_a_yolo_snapshot_imports_back_with_the_same_boxes(exported: Exported) -> None:
    body = snapshot(exported, "yolo")

    back = import_zip(exported.api, body)

    # The split folders of YOLO's images/<split>/ become the imported dataset's top folders.
    placed = {f"{SPLIT.get(p, 'unassigned')}/{p}": boxes for p, boxes in BOXES.items()}
    # Six decimals of a normalised coordinate: within a thousandth of a pixel.
    assert_same_boxes(annotated(exported.api, back, len(SIZES)), placed, tol=1e-3)


def import_zip(api: ServiceProcess, body: bytes) -> str:
    """Import a zip into a new dataset; returns its id once the import is done."""
    dataset_id = f"e2e-{uuid.uuid4().hex[:10]}"
    key = f"{dataset_id}/imports/snapshot.zip"
    put_object(s3_client(), key, body, "application/zip")
    done = finished(api, start_import(api, dataset_id, key))
    assert done["status"] == "done", done
    assert done["annotation_errors"] == [], done
    assert (done["images_done"], done["annotated"]) == (len(SIZES), len(SIZES))
    return dataset_id
