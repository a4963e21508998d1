"""What a file really is, from its first bytes, whatever its name or content type says."""

import struct
from dataclasses import dataclass

SNIFF_BYTES = 64 * 1024
"""Leading bytes ``sniff`` reads: TIFF-based RAW files differ only in their first directory."""

RAW_FORMATS = frozenset({"dng", "cr2", "cr3", "nef", "arw", "raf", "orf", "rw2"})
"""Camera RAW families, decoded with LibRaw instead of libvips."""

_TIFF_MAGIC = {b"II*\x00": "<", b"MM\x00*": ">"}
# Olympus and Panasonic keep the TIFF layout but change the magic number.
_TIFF_LIKE_MAGIC = {
    b"IIRO": ("<", "orf"),
    b"IIRS": ("<", "orf"),
    b"MMOR": (">", "orf"),
    b"IIU\x00": ("<", "rw2"),
}
MAKE, MODEL, ORIENTATION, DATE_TIME, DNG_VERSION = 271, 272, 274, 306, 50706
_IFD0_TAGS = frozenset({MAKE, MODEL, ORIENTATION, DATE_TIME, DNG_VERSION})

# ISO-BMFF brands of the HEIF family (AVIF and HEIC) found in an ``ftyp`` box.
_HEIF_BRANDS = {
    b"avif": "avif",
    b"avis": "avif",
    b"heic": "heic",
    b"heix": "heic",
    b"heim": "heic",
    b"heis": "heic",
    b"hevc": "heic",
    b"hevx": "heic",
    b"mif1": "heif",
    b"msf1": "heif",
}


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The format family of a file and whether it is a raster image we accept."""

    name: str
    accepted: bool

    @property
    def raw(self) -> bool:
        """Whether this is a camera RAW file."""
        return self.name in RAW_FORMATS


def sniff(head: bytes) -> Sniffed | None:
    """Identify a file by its magic bytes; ``None`` when it is no image format we know."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("jpeg", True)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("png", True)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("webp", True)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("gif", True)
    if head[:4] in _TIFF_MAGIC:
        return Sniffed(_tiff_family(head), True)
    if head[:4] in _TIFF_LIKE_MAGIC:
        return Sniffed(_TIFF_LIKE_MAGIC[head[:4]][1], True)
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return Sniffed("raf", True)
    if head[4:12] == b"ftypcrx ":
        return Sniffed("cr3", True)
    if head[4:8] == b"ftyp":
        brand = _HEIF_BRANDS.get(head[8:12])
        if brand is not None:
            return Sniffed(brand, True)
    # Recognised, but refused: vector and document formats can reference external
    # resources or run interpreters.
    if head[:2] == b"BM":
        return Sniffed("bmp", False)
    if head.lstrip()[:5] in (b"<?xml", b"<svg ") or head.lstrip()[:4] == b"<svg":
        return Sniffed("svg", False)
    if head.startswith(b"%PDF"):
        return Sniffed("pdf", False)
    if head[:4] == b"\x00\x00\x00\x0c" and head[4:8] == b"JXL ":
        return Sniffed("jxl", False)
    if head[:2] == b"\xff\x0a":
        return Sniffed("jxl", False)
    return None


def _tiff_family(head: bytes) -> str:
    if head[8:11] == b"CR\x02":
        return "cr2"
    tags = tiff_ifd0(head)
    if DNG_VERSION in tags:
        return "dng"
    make = str(tags.get(MAKE, "")).upper()
    if make.startswith("NIKON"):
        return "nef"
    if make.startswith("SONY"):
        return "arw"
    return "tiff"


def tiff_ifd0(head: bytes) -> dict[int, str | int]:
    """Make, Model, Orientation, DateTime and DNGVersion from a TIFF-style first directory.

    Reads only what lies inside ``head`` and skips anything malformed: the result decides
    a format and fills EXIF gaps, so a truncated or hostile header yields fewer tags, not
    an error.
    """
    if head[:4] in _TIFF_MAGIC:
        order = _TIFF_MAGIC[head[:4]]
    elif head[:4] in _TIFF_LIKE_MAGIC:
        order = _TIFF_LIKE_MAGIC[head[:4]][0]
    else:
        return {}
    if len(head) < 10:
        return {}
    (offset,) = struct.unpack_from(f"{order}I", head, 4)
    if offset + 2 > len(head):
        return {}
    (count,) = struct.unpack_from(f"{order}H", head, offset)
    tags: dict[int, str | int] = {}
    for index in range(count):
        entry = offset + 2 + 12 * index
        if entry + 12 > len(head):
            break
        tag, kind, n = struct.unpack_from(f"{order}HHI", head, entry)
        if tag not in _IFD0_TAGS:
            continue
        if kind == 2:  # ASCII, inline up to 4 bytes, else at an offset
            start = entry + 8 if n <= 4 else struct.unpack_from(f"{order}I", head, entry + 8)[0]
            if start + n <= len(head):
                text = head[start : start + n].split(b"\x00", 1)[0].decode("latin-1").strip()
                if text:
                    tags[tag] = text
        elif kind == 3 and n >= 1:  # SHORT
            tags[tag] = struct.unpack_from(f"{order}H", head, entry + 8)[0]
        elif kind == 1 and n >= 1:  # BYTE: DNGVersion
            tags[tag] = head[entry + 8]
    return tags
