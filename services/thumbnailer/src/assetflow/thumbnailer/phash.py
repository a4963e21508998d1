"""A 64-bit perceptual hash (DCT pHash) of pixels the thumbnailer has already decoded.

The algorithm is PyPI ``imagehash.phash`` (hackerfactor's "Looks Like It"): grey 32x32,
a 2-D type-II DCT, the top-left 8x8 low frequencies, one bit per coefficient above their
median, row-major, first bit most significant, written as 16 hex digits. imagehash needs
PIL and scipy; here the 32x32 comes from libvips (shrunk from the thumb, not re-decoded)
and the DCT is two small matrix products in numpy, since only the 8 lowest frequencies of
each axis are kept. ``tests/unit/test_phash.py`` checks the DCT-and-median core bit for
bit against ``imagehash.phash`` on the same 32x32 grey pixels, and whole images against
it within a few bits (PIL and libvips resample differently).
"""

from functools import cache

import numpy as np
import numpy.typing as npt
import pyvips

HASH_SIZE = 8
SAMPLE_EDGE = 32  # HASH_SIZE x imagehash's highfreq_factor (4)


@cache
def _dct_rows() -> npt.NDArray[np.float64]:
    """The first HASH_SIZE rows of scipy's unnormalised type-II DCT matrix for 32 samples."""
    k = np.arange(HASH_SIZE)[:, None]
    n = np.arange(SAMPLE_EDGE)[None, :]
    return 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * SAMPLE_EDGE))


def phash_of_grey(grey: npt.NDArray[np.uint8]) -> str:
    """The pHash of 32x32 grey pixels, as 16 lower-case hex digits (imagehash's ``str``)."""
    if grey.shape != (SAMPLE_EDGE, SAMPLE_EDGE):
        raise ValueError(f"expected {SAMPLE_EDGE}x{SAMPLE_EDGE} pixels, got {grey.shape}")
    rows = _dct_rows()
    low = rows @ grey.astype(np.float64) @ rows.T  # == dct(dct(x, axis=0), axis=1)[:8, :8]
    bits = (low > np.median(low)).flatten()
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def grey_of_rgb(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """ITU-R 601 luma with PIL's integer rounding (``Image.convert('L')``)."""
    r, g, b = (rgb[..., channel].astype(np.uint32) for channel in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


def phash_of_image(image: pyvips.Image) -> str:
    """The pHash of an 8-bit sRGB image (alpha ignored, as PIL's ``convert('L')`` does)."""
    small = image.thumbnail_image(SAMPLE_EDGE, height=SAMPLE_EDGE, size="force")
    pixels = np.frombuffer(small.write_to_memory(), dtype=np.uint8)
    pixels = pixels.reshape(small.height, small.width, small.bands)
    if small.bands < 3:
        return phash_of_grey(pixels[..., 0])
    return phash_of_grey(grey_of_rgb(pixels))
