"""What a file really is, from its first bytes, whatever its name or content type says."""

from dataclasses import dataclass

SNIFF_BYTES = 32
"""How many leading bytes ``sniff`` needs to recognise every format below."""

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
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return Sniffed("tiff", True)
    if head[4:8] == b"ftyp":
        brand = _HEIF_BRANDS.get(head[8:12])
        if brand is not None:
            return Sniffed(brand, True)
    # Recognised, but refused: vector and document formats can reference external
    # resources or run interpreters, and RAW camera files are a later feature.
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
