"""Zip imports in COCO, YOLO and Pascal VOC layouts: told apart by their folders, checked, and
their annotations read into shapes (VOC XML parsed safely); the importer run over fakes."""

import io
import zipfile

import pytest

from assetflow.domain.annotating import ImportReport
from assetflow.domain.coco import ImageShapes
from assetflow.domain.voc import VocError, read_voc
from assetflow.domain.yolo import YoloError, read_label, read_names
from assetflow.domain.zipimport import ZipLimits, detect_format, plan_zip
from assetflow.readmodel.imports import I
from assetflow.snapshotter.importing import Importer
from tests.support import images
from tests.support.snapshotter_fakes import FakeImportStore, FakeS3

BUCKET = "datasets"
DATASET = "cats"
ZIP_KEY = "cats/imports/in.zip"
VOC_XML = b"""<annotation>
  <filename>a/1.jpg</filename>
  <size><width>40</width><height>30</height></size>
  <object><name>Cat</name><bndbox>
    <xmin>3</xmin><ymin>5</ymin><xmax>12.5</xmax><ymax>30</ymax>
  </bndbox></object>
  <object><name>dog</name><bndbox><xmin>0</xmin><ymin>1</ymin><xmax>4</xmax><ymax>6</ymax>
  </bndbox></object>
</annotation>"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><filename>&lol3;</filename></annotation>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<annotation><filename>&x;</filename></annotation>"""


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def planned(files: dict[str, bytes]) -> tuple[str, list[str], list[str], list[str]]:
    plan = plan_zip(zipfile.ZipFile(io.BytesIO(zipped(files))).infolist(), ZipLimits())
    return plan.format, [p for _, p in plan.images], [p for _, p in plan.labels], plan.problems


def test_layouts_are_told_apart_by_their_folders() -> None:
    assert detect_format(["images/a.jpg", "annotations.json"]) == "coco"
    assert detect_format(["images/a.jpg"]) == "coco"
    assert detect_format(["images/a.jpg", "labels/a.txt"]) == "yolo"
    assert detect_format(["data.yaml", "images/train/a.jpg"]) == "yolo"
    assert detect_format(["Annotations/a.xml", "images/x.jpg"]) == "voc"
    assert detect_format(["JPEGImages/a.jpg"]) == "voc"


def test_a_yolo_snapshot_plans_its_images_and_labels_and_skips_its_own_files() -> None:
    files = {
        "images/train/a/1.jpg": b"x",
        "labels/train/a/1.txt": b"0 0.5 0.5 0.2 0.2",
        "data.yaml": b"names: [cat]",
        "manifest.jsonl": b"{}",
        "snapshot.json": b"{}",
    }
    assert planned(files) == ("yolo", ["train/a/1.jpg"], ["train/a/1.txt"], [])


def test_a_voc_zip_plans_images_and_xml_and_refuses_what_is_outside_its_layout() -> None:
    files = {
        "JPEGImages/a/1.jpg": b"x",
        "Annotations/a/1.xml": VOC_XML,
        "ImageSets/Main/train.txt": b"a/1",
        "labels.txt": b"cat",
        "Annotations/notes.txt": b"hello",
        "images/b.jpg": b"x",
        "JPEGImages/readme.md": b"hello",
        "JPEGImages/../evil.jpg": b"x",
    }
    fmt, paths, labels, problems = planned(files)
    assert (fmt, paths, labels) == ("voc", ["a/1.jpg"], ["a/1.xml"])
    assert problems == [
        "'Annotations/notes.txt': outside JPEGImages/, Annotations/ (.xml) and ImageSets/",
        "'images/b.jpg': outside JPEGImages/, Annotations/ (.xml) and ImageSets/",
        "'JPEGImages/readme.md': not an image file under JPEGImages/",
        "'JPEGImages/../evil.jpg': an empty, '.' or '..' segment",
    ]


def test_annotation_files_count_against_their_limit() -> None:
    files = {f"labels/{i}.txt": b"0 0.5 0.5 0.1 0.1\n" * 10 for i in range(4)}
    body = zipfile.ZipFile(io.BytesIO(zipped(files))).infolist()
    plan = plan_zip(body, ZipLimits(max_annotations_bytes=500))
    assert plan.problems == ["720 bytes of annotation files, above the limit of 500"]


def test_voc_boxes_read_back_0_based_and_clamped_at_the_edge() -> None:
    parsed = read_voc(VOC_XML)

    assert parsed.filename == "a/1.jpg" and parsed.errors == []
    assert [(s.label, s.bbox) for s in parsed.shapes] == [
        ("cat", (2.0, 4.0, 10.5, 26.0)),
        ("dog", (0.0, 0.0, 4.0, 6.0)),  # written 0-based by some tool: clamped at 0
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (BILLION_LAUGHS, "refused: DTDForbidden (DTDs and entities are not accepted)"),
        (EXTERNAL_ENTITY, "refused: DTDForbidden (DTDs and entities are not accepted)"),
        (b"<annotation><object>", "not well-formed XML: no element found: line 1, column 20"),
        (b"<svg/>", "the root element is <svg>, not <annotation>"),
    ],
)
def test_unsafe_or_broken_xml_is_refused_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(VocError) as refused:
        read_voc(body)
    assert str(refused.value) == reason


def test_a_bad_voc_object_is_named_and_the_others_kept() -> None:
    body = b"""<annotation><filename>x.jpg</filename>
      <object><name>cat</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>4</xmax><ymax>9</ymax>
      </bndbox></object>
      <object><name>cat</name></object>
      <object><name>dog</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>
      </bndbox></object></annotation>"""
    parsed = read_voc(body)
    assert parsed.errors == [
        "object 1: bndbox (5, 5, 4, 9) has no area",
        "object 2: an object needs <name> and <bndbox>",
    ]
    assert [(s.id, s.bbox) for s in parsed.shapes] == [("voc-3", (0.0, 0.0, 2.0, 2.0))]


def test_yolo_names_as_a_list_or_a_mapping() -> None:
    assert read_names(b"names: [cat, dog]") == ["cat", "dog"]
    assert read_names(b"path: .\nnames:\n  0: cat\n  1: 'dog'\n") == ["cat", "dog"]
    for bad, reason in [
        (b"names:\n  0: cat\n  2: dog\n", "data.yaml: the names' indexes are not 0, 1, 2, ..."),
        (b"nc: 2\n", "data.yaml: 'names' is neither a list of names nor {index: name}"),
        (b"names: [cat", "data.yaml is not YAML"),
    ]:
        with pytest.raises(YoloError) as refused:
            read_names(bad)
        assert str(refused.value).startswith(reason)


def test_yolo_lines_become_pixel_boxes_and_polygons() -> None:
    text = "\n".join(
        [
            "1 0.5 0.5 0.25 0.5",
            "",
            "0 0.1 0.1 0.9 0.1 0.5 0.9",
            "0 1.0000004 0.5 0.5 0.5",  # past the right edge: clamped there
            "7 0.5 0.5 1 1",
            "0 1 2",
        ]
    )
    shapes, errors = read_label(text, ["cat", "dog"], 200, 100)

    assert [(s.label, s.type, s.bbox, s.points) for s in shapes] == [
        ("dog", "bbox", (75.0, 25.0, 50.0, 50.0), None),
        ("cat", "polygon", None, [(20.0, 10.0), (180.0, 10.0), (100.0, 90.0)]),
        ("cat", "bbox", (pytest.approx(150.00008), 25.0, pytest.approx(49.99992), 50.0), None),
    ]
    assert errors == [
        "line 5: class '7' is not in data.yaml's 2 names",
        "line 6: 2 numbers: a box has 4, a polygon an even count of 6 or more",
    ]


class Importing:
    """An importer over fakes, and what it handed to the annotation import."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.s3 = FakeS3()
        self.store = FakeImportStore(self.s3)
        self.annotated: list[ImageShapes] = []
        self.s3.objects[(BUCKET, ZIP_KEY)] = zipped(files)
        self.store.add_request("i1", DATASET, ZIP_KEY)
        self.importer = Importer(self.store, self.s3, BUCKET, self.annotate, index_timeout_s=5)

    def annotate(self, dataset_id: str, items: list[ImageShapes]) -> ImportReport:
        self.annotated += items
        return ImportReport(images=len(items))

    def run(self) -> dict[str, object]:
        self.importer.run("i1")
        return self.store.requests["i1"]

    def shapes(self) -> dict[str, list[tuple[str, object]]]:
        return {
            i.file_name: [(s.label, s.bbox or s.points) for s in i.shapes] for i in self.annotated
        }


def test_a_voc_zip_is_imported_with_its_boxes() -> None:
    app = Importing(
        {
            "JPEGImages/a/1.jpg": images.jpeg(40, 30),
            "JPEGImages/b.png": images.png(20, 20),
            "Annotations/a/1.xml": VOC_XML,
            "Annotations/b.xml": b"<annotation><object><name>cat</name><bndbox><xmin>1</xmin>"
            b"<ymin>1</ymin><xmax>20</xmax><ymax>20</ymax></bndbox></object></annotation>",
            "Annotations/c.xml": b"<annotation><filename>c.jpg</filename></annotation>",
            "ImageSets/Main/default.txt": b"a/1\nb\n",
        }
    )

    done = app.run()

    assert (done[I.STATUS], done[I.IMAGES_DONE], done[I.ANNOTATED]) == ("done", 2, 2)
    assert done[I.ANNOTATION_ERRORS] == ["Annotations/c.xml: names no image under JPEGImages/"]
    assert app.shapes() == {
        "a/1.jpg": [("cat", (2.0, 4.0, 10.5, 26.0)), ("dog", (0.0, 0.0, 4.0, 6.0))],
        "b.png": [("cat", (0.0, 0.0, 20.0, 20.0))],  # no <filename>: found by its own name
    }
    assert (BUCKET, "cats/images/a/1.jpg") in app.s3.objects


def test_a_voc_zip_with_an_entity_bomb_is_refused_and_nothing_is_written() -> None:
    app = Importing(
        {
            "JPEGImages/a/1.jpg": images.jpeg(40, 30),
            "Annotations/a/1.xml": VOC_XML,
            "Annotations/lol.xml": BILLION_LAUGHS,
        }
    )

    done = app.run()

    assert done[I.STATUS] == "failed"
    assert done[I.PROBLEMS] == [
        "'Annotations/lol.xml': refused: DTDForbidden (DTDs and entities are not accepted)"
    ]
    assert [key for _, key in app.s3.objects] == [ZIP_KEY]
    assert app.annotated == []


def test_a_yolo_zip_is_imported_in_pixels_of_each_images_size() -> None:
    app = Importing(
        {
            "images/train/a.jpg": images.jpeg(200, 100),
            "images/val/b.png": images.png(50, 40),
            "images/val/c.png": images.png(10, 10),
            "labels/train/a.txt": b"1 0.5 0.5 0.25 0.5\n",
            "labels/val/b.txt": b"0 0.1 0.25 0.2 0.5\n",
            "labels/val/c.txt": b"",
            "labels/val/gone.txt": b"0 0.5 0.5 0.1 0.1\n",
            "data.yaml": b"train: images/train\nval: images/val\nnames:\n  0: cat\n  1: dog\n",
        }
    )

    done = app.run()

    assert (done[I.STATUS], done[I.IMAGES_DONE], done[I.ANNOTATED]) == ("done", 3, 3)
    assert app.shapes() == {
        "train/a.jpg": [("dog", (75.0, 25.0, 50.0, 50.0))],
        "val/b.png": [("cat", (0.0, 0.0, 10.0, 20.0))],
        "val/c.png": [],
    }
    assert done[I.ANNOTATION_ERRORS] == [
        "labels/val/gone.txt: no image under images/ with its name"
    ]


def test_yolo_labels_without_data_yaml_are_reported_and_the_images_kept() -> None:
    app = Importing({"images/a.jpg": images.jpeg(20, 20), "labels/a.txt": b"0 0.5 0.5 1 1\n"})

    done = app.run()

    assert (done[I.STATUS], done[I.IMAGES_DONE]) == ("done", 1)
    assert done[I.ANNOTATION_ERRORS] == ["labels/ without data.yaml: the class names are unknown"]
    assert app.annotated == []
