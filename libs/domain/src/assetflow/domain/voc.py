"""Pascal VOC: one XML file per image, written from shapes (export) and read back (import).

VOC boxes are 1-based inclusive pixel indices: a box ``[x, y, w, h]`` in our pixel coordinates
(pixel i spans [i, i + 1)) is ``xmin = x + 1``, ``xmax = x + w``, which is how Detectron2 and
torchvision's VOC readers take them back (``x = xmin - 1``). Polygons and points are written as
their bounding box; a whole-image tag, or a box without width or height, has no VOC object.
XML is parsed with defusedxml: a DTD, an entity or an external reference refuses the file.
"""

import posixpath
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from assetflow.domain.coco import bbox_of
from assetflow.readmodel.annotations import Shape

JPEG_DIR = "JPEGImages/"
XML_DIR = "Annotations/"
SETS_DIR = "ImageSets/Main/"


@dataclass
class VocIds:
    """Image ids for a VOC export, unique, given paths in key order.

    A ``.jpg`` image's id is its path without ``.jpg`` (VOC tools open ``JPEGImages/<id>.jpg``)
    when the rest of its file name has no dot; every other image's id is its whole path, whose
    file name always has one. So ids never repeat: ``a.jpg`` is ``a``, ``a.png`` is ``a.png``,
    ``a.png.jpg`` is ``a.png.jpg``. Only a file without an extension, ``a``, could meet
    ``a.jpg``; it sorts first, so ``a.jpg`` then keeps its whole path.
    """

    _bare: set[str] = field(default_factory=set)  # ids of files without an extension

    def __call__(self, path: str) -> str:
        """The id of the image at ``path``; call it for every image, in key order."""
        name = posixpath.basename(path)
        if "." not in name:
            self._bare.add(path)
            return path
        stem = path.removesuffix(".jpg")
        if stem != path and "." not in posixpath.basename(stem) and stem not in self._bare:
            return stem
        return path


def boxes(shapes: Iterable[Shape]) -> list[tuple[str, list[float]]]:
    """(label, [x, y, w, h]) of every shape a box-only format can hold, in order."""
    found = []
    for shape in shapes:
        box = bbox_of(shape)
        if box and box[2] > 0 and box[3] > 0:
            found.append((shape.label, box))
    return found


def voc_xml(path: str, width: int | None, height: int | None, shapes: Iterable[Shape]) -> bytes:
    """The annotation file of the image at ``path`` (its name under ``JPEGImages/``)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = JPEG_DIR.rstrip("/")
    ET.SubElement(root, "filename").text = path
    if width and height:  # an image of unknown size (not decoded) gets no size
        size = ET.SubElement(root, "size")
        ET.SubElement(size, "width").text = str(width)
        ET.SubElement(size, "height").text = str(height)
    ET.SubElement(root, "segmented").text = "0"
    for label, (x, y, w, h) in boxes(shapes):
        item = ET.SubElement(root, "object")
        ET.SubElement(item, "name").text = label
        ET.SubElement(item, "pose").text = "Unspecified"
        ET.SubElement(item, "truncated").text = "0"
        ET.SubElement(item, "difficult").text = "0"
        box = ET.SubElement(item, "bndbox")
        for name, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
            ET.SubElement(box, name).text = _number(value)
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


def _number(value: float) -> str:
    """An integer as one; otherwise six decimals at most (a float sum's noise cut off)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass
class VocFile:
    """One parsed annotation file: the image it names (if it names one) and its shapes."""

    filename: str | None
    shapes: list[Shape] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class VocError(ValueError):
    """An annotation file that cannot be read safely; the message says why."""


def read_voc(body: bytes, id_prefix: str = "voc") -> VocFile:
    """Parse one annotation file; raises VocError for XML that is malformed or unsafe."""
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise VocError(
            f"refused: {type(exc).__name__} (DTDs and entities are not accepted)"
        ) from None
    except ET.ParseError as exc:
        raise VocError(f"not well-formed XML: {exc}") from None
    if root.tag != "annotation":
        raise VocError(f"the root element is <{root.tag}>, not <annotation>")
    parsed = VocFile(filename=(root.findtext("filename") or "").strip() or None)
    for n, item in enumerate(root.iter("object"), start=1):
        try:
            parsed.shapes.append(_shape(item, f"{id_prefix}-{n}"))
        except ValueError as exc:
            parsed.errors.append(f"object {n}: {exc}")
    return parsed


def _shape(item: ET.Element, shape_id: str) -> Shape:
    label = (item.findtext("name") or "").strip()
    box = item.find("bndbox")
    if not label or box is None:
        raise ValueError("an object needs <name> and <bndbox>")
    xmin, ymin, xmax, ymax = (float((box.findtext(n) or "nan").strip()) for n in _CORNERS)
    # Files written 0-based (some tools do) would start at -1: clamp at the image's edge.
    x, y = max(0.0, xmin - 1), max(0.0, ymin - 1)
    if not (xmax > x and ymax > y):
        raise ValueError(f"bndbox ({xmin:g}, {ymin:g}, {xmax:g}, {ymax:g}) has no area")
    return Shape(id=shape_id, type="bbox", label=label, bbox=(x, y, xmax - x, ymax - y))


_CORNERS = ("xmin", "ymin", "xmax", "ymax")
