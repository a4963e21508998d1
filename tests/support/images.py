"""Real image files generated with pyvips, for rendering and end-to-end tests."""

import struct
from typing import Any

import numpy as np
import pyvips


def photo(width: int, height: int, *, alpha: bool = False) -> pyvips.Image:
    """A smooth colour pattern (compresses like a photo, unlike flat colour or noise)."""
    xyz = pyvips.Image.xyz(width, height)
    red = (xyz[0] * (255.0 / max(1, width - 1))).cast("uchar")
    green = (xyz[1] * (255.0 / max(1, height - 1))).cast("uchar")
    blue = ((xyz[0] + xyz[1]) % 256).cast("uchar")
    image = red.bandjoin([green, blue])
    if alpha:  # the left half fully transparent, the right half opaque
        image = image.bandjoin((xyz[0] >= width // 2).ifthenelse(255, 0).cast("uchar"))
    return image.copy(interpretation="srgb")


def scene(seed: int, width: int, height: int) -> pyvips.Image:
    """A smooth picture of random colour blobs: each seed looks different to a perceptual
    hash (the gradients of ``photo`` all look alike to one)."""
    cells = np.random.default_rng(seed).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    small = pyvips.Image.new_from_array(cells).copy(interpretation="srgb")
    return small.resize(width / 8, vscale=height / 6, kernel="cubic")


def scene_jpeg(seed: int, width: int = 800, height: int = 600, quality: int = 90) -> bytes:
    """``scene`` as a JPEG."""
    return bytes(scene(seed, width, height).jpegsave_buffer(Q=quality))


def jpeg(
    width: int,
    height: int,
    *,
    orientation: int | None = None,
    exif: dict[str, str] | None = None,
    quality: int = 90,
) -> bytes:
    """A JPEG whose EXIF carries ``orientation`` and the given ``exif-ifdN-Name`` strings."""
    image = photo(width, height).copy()
    if orientation is not None:
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    for name, value in (exif or {}).items():
        image.set_type(pyvips.GValue.gstr_type, name, value)
    return bytes(image.jpegsave_buffer(Q=quality))


def png(width: int, height: int, *, alpha: bool = False, sixteen_bit: bool = False) -> bytes:
    """A PNG, optionally with an alpha channel or 16 bits per sample."""
    image = photo(width, height, alpha=alpha)
    if sixteen_bit:
        image = (image.cast("ushort") * 257).copy(interpretation="rgb16")
    return bytes(image.pngsave_buffer(keep="none"))  # no EXIF block at all


def webp(width: int, height: int) -> bytes:
    """A lossy WebP."""
    return bytes(photo(width, height).webpsave_buffer(Q=80))


def avif(width: int, height: int) -> bytes:
    """An AVIF (AV1 in HEIF), which the bundled libvips both writes and reads."""
    return bytes(photo(width, height).heifsave_buffer(compression="av1", Q=50))


def tiff(width: int, height: int) -> bytes:
    """An uncompressed TIFF."""
    return bytes(photo(width, height).tiffsave_buffer())


def animated_gif(width: int, frame_height: int, frames: int) -> bytes:
    """A GIF with ``frames`` frames of ``width`` x ``frame_height``."""
    strip: Any = photo(width, frame_height * frames).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", frame_height)
    return bytes(strip.gifsave_buffer())


def grey_jpeg(width: int, height: int) -> bytes:
    """A one-band (greyscale) JPEG."""
    return bytes(photo(width, height)[1].copy(interpretation="b-w").jpegsave_buffer())


def with_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its frame header claiming another size (the pixels stay small)."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = data.find(marker)
        if at >= 0:
            # SOF: marker, length (2), precision (1), height (2), width (2)
            return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
    raise ValueError("no SOF0/SOF2 marker")
