"""Decode an image once and derive everything from it: thumb, preview, size, EXIF, thumbhash
and the perceptual hash.

Pure CPU work with no network I/O, run in worker threads: libvips releases the GIL while
it decodes, resizes and encodes.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyvips
import rawpy

from assetflow.contracts.events import ExifSummary
from assetflow.thumbnailer.exif import read_exif
from assetflow.thumbnailer.formats import SNIFF_BYTES, sniff
from assetflow.thumbnailer.observability import RAW_DECODES
from assetflow.thumbnailer.phash import phash_of_image
from assetflow.thumbnailer.rawfiles import decode_raw, displayed_size, open_raw
from assetflow.thumbnailer.thumbhash import thumbhash_base64

Source = bytes | Path
"""An original held in memory, or spooled to a local file when it is large."""

# EXIF orientations 5-8 turn the image by 90 degrees, so displayed width and height swap.
_TRANSPOSING = {5, 6, 7, 8}
THUMBHASH_EDGE = 100  # the ThumbHash encoder's maximum input size


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Sizes, qualities and the pixel limit of one rendering."""

    thumb_edge: int = 256
    preview_edge: int = 1280
    thumb_quality: int = 80
    preview_quality: int = 82
    max_pixels: int = 100_000_000


@dataclass(frozen=True, slots=True)
class Encoded:
    """One encoded rendition."""

    data: bytes
    width: int
    height: int
    content_type: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """Everything derived from one decode of an image."""

    source_format: str
    width: int
    height: int
    thumb: Encoded
    preview: Encoded
    thumbhash: str
    exif: ExifSummary
    phash: str  # 64-bit DCT perceptual hash, 16 hex digits (phash.py)


@dataclass(frozen=True, slots=True)
class Refused:
    """Why no renditions were made: ``rejected`` input or a ``failed`` decode."""

    status: Literal["rejected", "failed"]
    reason: str


def configure_libvips(max_threads_per_image: int = 1) -> None:
    """Process-wide libvips settings for a service decoding many images at once.

    The operation cache would keep recent originals alive (memory grows with throughput);
    parallelism comes from decoding several images at once, so each image gets few threads.
    """
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(max_threads_per_image)


def render(source: Source, options: RenderOptions) -> Rendered | Refused:
    """Thumb, preview, displayed size, EXIF and thumbhash, or the reason there are none."""
    head = _head(source)
    sniffed = sniff(head)
    if sniffed is None:
        return Refused("rejected", f"not an image: {_describe(head)}")
    if not sniffed.accepted:
        return Refused("rejected", f"unsupported image type: {sniffed.name}")
    if sniffed.raw:
        return _render_raw(source, head, options, sniffed.name)
    if _loader(source) is None:
        return Refused(
            "rejected", f"unsupported image type: {sniffed.name} (no decoder in this build)"
        )
    try:
        header = _open_header(source)  # lazy: reads the header, decodes no pixels
    except pyvips.Error as exc:
        return Refused("failed", f"cannot read the {sniffed.name} header: {_vips_message(exc)}")
    too_big = _over_limit(header.width, header.height, options)
    if too_big is not None:
        return too_big
    exif = read_exif(header)
    width, height = header.width, header.height
    if exif.orientation in _TRANSPOSING:
        width, height = height, width
    try:
        return _derive(source, options, sniffed.name, width, height, exif)
    except pyvips.Error as exc:
        return Refused("failed", f"cannot decode the {sniffed.name} image: {_vips_message(exc)}")


def _render_raw(
    source: Source, head: bytes, options: RenderOptions, name: str
) -> Rendered | Refused:
    try:
        with open_raw(source) as raw:  # parses metadata only; pixels come later
            width, height = displayed_size(raw)
            too_big = _over_limit(width, height, options)
            if too_big is not None:
                return too_big
            decoded = decode_raw(raw, head, min_edge=options.thumb_edge, edge=options.preview_edge)
    except rawpy.LibRawError as exc:
        return Refused("failed", f"cannot decode the {name} file: {_libraw_message(exc)}")
    RAW_DECODES.labels(name, decoded.route).inc()
    try:
        preview = decoded.image.thumbnail_image(
            options.preview_edge, height=options.preview_edge, size="down"
        )
        return _renditions(preview, options, name, width, height, decoded.exif)
    except pyvips.Error as exc:
        return Refused("failed", f"cannot render the {name} image: {_vips_message(exc)}")


def _over_limit(width: int, height: int, options: RenderOptions) -> Refused | None:
    pixels = width * height
    if pixels <= options.max_pixels:
        return None
    return Refused(
        "rejected",
        f"{width}x{height} px is {pixels / 1e6:.1f} megapixels, "
        f"over the limit of {options.max_pixels / 1e6:g}",
    )


def _derive(
    source: Source, options: RenderOptions, name: str, width: int, height: int, exif: ExifSummary
) -> Rendered:
    # The one decode: shrink-on-load straight to preview size, turned upright by EXIF.
    return _renditions(_thumbnail(source, options.preview_edge), options, name, width, height, exif)


def _renditions(
    preview: pyvips.Image,
    options: RenderOptions,
    name: str,
    width: int,
    height: int,
    exif: ExifSummary,
) -> Rendered:
    # Materialising the preview means the two encodes and the thumbhash all read these
    # pixels instead of each re-running the lazy decode pipeline.
    preview = _srgb8(preview).copy_memory()
    thumb = preview.thumbnail_image(options.thumb_edge, height=options.thumb_edge, size="down")
    thumb = thumb.copy_memory()
    thumb_data = thumb.webpsave_buffer(Q=options.thumb_quality, keep="none")
    opaque_preview = preview.flatten(background=255) if preview.hasalpha() else preview
    preview_data = opaque_preview.jpegsave_buffer(
        Q=options.preview_quality, interlace=True, optimize_coding=True, keep="none"
    )
    return Rendered(
        source_format=name,
        width=width,
        height=height,
        thumb=Encoded(thumb_data, thumb.width, thumb.height, "image/webp"),
        preview=Encoded(preview_data, preview.width, preview.height, "image/jpeg"),
        thumbhash=_thumbhash(thumb),
        exif=exif,
        phash=phash_of_image(thumb),
    )


def _thumbhash(thumb: pyvips.Image) -> str:
    small = thumb.thumbnail_image(THUMBHASH_EDGE, height=THUMBHASH_EDGE, size="down")
    if not small.hasalpha():
        small = small.bandjoin(255)
    return thumbhash_base64(small.width, small.height, small.write_to_memory())


def _srgb8(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB (plus alpha if any): what WebP, JPEG and ThumbHash all expect."""
    if image.interpretation != "srgb" or image.format != "uchar" or image.bands not in (3, 4):
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _thumbnail(source: Source, edge: int) -> pyvips.Image:
    if isinstance(source, Path):
        return pyvips.Image.thumbnail(str(source), edge, height=edge, size="down")
    return pyvips.Image.thumbnail_buffer(source, edge, height=edge, size="down")


def _open_header(source: Source) -> pyvips.Image:
    if isinstance(source, Path):
        return pyvips.Image.new_from_file(str(source), access="sequential")
    return pyvips.Image.new_from_buffer(source, "", access="sequential")


def _loader(source: Source) -> str | None:
    """The libvips loader for a source, None when this build has no decoder for it."""
    if isinstance(source, Path):
        pointer = pyvips.vips_lib.vips_foreign_find_load(str(source).encode())
    else:
        pointer = pyvips.vips_lib.vips_foreign_find_load_buffer(source, len(source))
    if pointer == pyvips.ffi.NULL:
        pyvips.vips_lib.vips_error_clear()
        return None
    return str(pyvips.ffi.string(pointer).decode())


def _head(source: Source) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as file:
            return file.read(SNIFF_BYTES)
    return source[:SNIFF_BYTES]


def _describe(head: bytes) -> str:
    if not head:
        return "the file is empty"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return "it looks like text"
    return f"unrecognised content starting {head[:8].hex(' ')}"


def _vips_message(exc: pyvips.Error) -> str:
    # pyvips errors carry libvips' whole log; its first non-empty detail line is the cause.
    lines = [line.strip() for line in str(exc.detail or exc.message).splitlines() if line.strip()]
    return lines[0] if lines else "unknown libvips error"


def _libraw_message(exc: rawpy.LibRawError) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or type(exc).__name__
