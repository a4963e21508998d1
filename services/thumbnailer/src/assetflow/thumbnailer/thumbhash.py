"""ThumbHash encoder: a byte-exact numpy port of the JS reference ``rgbaToThumbHash``."""

import base64
import math
import struct
from functools import lru_cache

import numpy as np
import numpy.typing as npt

MAX_SIDE = 100

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

# The reference hashes are the spec, and their low bits are decided by float64 rounding noise:
# a DCT term that is zero in exact arithmetic (every symmetric image has some) lands on 7.5
# after scaling and JS rounds it by the sign of the noise; a flat image's luminance AC terms
# are nothing but noise, amplified by 1/scale.  So this port repeats the reference's exact
# sequence of float64 operations rather than computing the same maths more cleverly.


def _high_word(x: float) -> int:
    return int(struct.unpack("<q", struct.pack("<d", x))[0] >> 32)


def _kernel_cos(x: float, y: float) -> float:
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return 1.0
    z = x * x
    r = z * (
        4.16666666666666019037e-02
        + z
        * (
            -1.38888888888741095749e-03
            + z
            * (
                2.48015872894767294178e-05
                + z
                * (
                    -2.75573143513906633035e-07
                    + z * (2.08757232129817482790e-09 + z * -1.13596475577881948265e-11)
                )
            )
        )
    )
    if ix < 0x3FD33333:
        return 1.0 - (0.5 * z - (z * r - x * y))
    if ix > 0x3FE90000:
        qx = 0.28125
    else:
        qx = float(struct.unpack("<d", struct.pack("<Q", (ix - 0x00200000) << 32))[0])
    return (1.0 - qx) - ((0.5 * z - qx) - (z * r - x * y))


def _kernel_sin(x: float, y: float) -> float:
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:
        return x
    z = x * x
    v = z * x
    r = 8.33333333332248946124e-03 + z * (
        -1.98412698298579493134e-04
        + z
        * (
            2.75573137070700676789e-06
            + z * (-2.50507602534068634195e-08 + z * 1.58969099521155010221e-10)
        )
    )
    return x - ((z * (0.5 * y - v * r) - y) - v * -1.66666666666666324348e-01)


# High words of n*pi/2 for n = 1..32, to spot arguments where the first reduction cancels.
_NPIO2_HW = (
    0x3FF921FB, 0x400921FB, 0x4012D97C, 0x401921FB, 0x401F6A7A, 0x4022D97C, 0x4025FDBB,
    0x402921FB, 0x402C463A, 0x402F6A7A, 0x4031475C, 0x4032D97C, 0x40346B9C, 0x4035FDBB,
    0x40378FDB, 0x403921FB, 0x403AB41B, 0x403C463A, 0x403DD85A, 0x403F6A7A, 0x40407E4C,
    0x4041475C, 0x4042106C, 0x4042D97C, 0x4043A28C, 0x40446B9C, 0x404534AC, 0x4045FDBB,
    0x4046C6CB, 0x40478FDB, 0x404858EB, 0x404921FB,
)  # fmt: skip
_PIO2 = (
    1.57079632673412561417e00,  # pio2_1
    6.07710050650619224932e-11,  # pio2_1t
    6.07710050630396597660e-11,  # pio2_2
    2.02226624879595063154e-21,  # pio2_2t
    2.02226624871116645580e-21,  # pio2_3
    8.47842766036889956997e-32,  # pio2_3t
)


def _rem_pio2(x: float) -> tuple[int, float, float]:
    # Only the two branches reachable from DCT arguments: 0 <= x < 6*pi.
    pio2_1, pio2_1t, pio2_2, pio2_2t, pio2_3, pio2_3t = _PIO2
    ix = _high_word(x) & 0x7FFFFFFF
    if ix < 0x4002D97C:  # |x| < 3pi/4
        z = x - pio2_1
        if ix != 0x3FF921FB:
            y0 = z - pio2_1t
            return 1, y0, (z - y0) - pio2_1t
        z -= pio2_2
        y0 = z - pio2_2t
        return 1, y0, (z - y0) - pio2_2t
    n = int(x * 6.36619772367581382433e-01 + 0.5)
    fn = float(n)
    r = x - fn * pio2_1
    w = fn * pio2_1t
    y0 = r - w
    if not (n < 32 and ix != _NPIO2_HW[n - 1]):
        j = ix >> 20
        if j - ((_high_word(y0) >> 20) & 0x7FF) > 16:
            t = r
            w = fn * pio2_2
            r = t - w
            w = fn * pio2_2t - ((t - r) - w)
            y0 = r - w
            if j - ((_high_word(y0) >> 20) & 0x7FF) > 49:
                t = r
                w = fn * pio2_3
                r = t - w
                w = fn * pio2_3t - ((t - r) - w)
                y0 = r - w
    return n, y0, (r - y0) - w


def _v8_cos(x: float) -> float:
    # V8's Math.cos is fdlibm, which misses the correctly rounded libm/numpy result by one ulp
    # on ~3% of the DCT table; this port of it (src/base/ieee754.cc) matches Node 20 and 24
    # on every argument an image up to 100x100 can produce.
    if _high_word(x) & 0x7FFFFFFF <= 0x3FE921FB:  # |x| <= pi/4
        return _kernel_cos(x, 0.0)
    n, y0, y1 = _rem_pio2(x)
    quadrant = n & 3
    if quadrant == 0:
        return _kernel_cos(y0, y1)
    if quadrant == 1:
        return -_kernel_sin(y0, y1)
    if quadrant == 2:
        return -_kernel_cos(y0, y1)
    return _kernel_sin(y0, y1)


@lru_cache(maxsize=None)  # one entry per side length, so at most MAX_SIDE of them
def _cos_table(size: int) -> _F64:
    # Row c holds cos(PI / size * c * (i + 0.5)), evaluated left to right as JS does; the
    # luminance DCT never goes past frequency 6.
    table = np.array(
        [[_v8_cos(math.pi / size * c * (i + 0.5)) for i in range(size)] for c in range(7)]
    )
    table.flags.writeable = False
    return table


@lru_cache(maxsize=256)
def _basis(width: int, height: int, nx: int, ny: int) -> tuple[_F64, _F64]:
    # Coefficients in the reference's emission order (rows of cy, then cx within the
    # triangle cx * ny < nx * (ny - cy)); the DC term comes first.
    cxs = [cx for cy in range(ny) for cx in range(nx) if cx * ny < nx * (ny - cy)]
    cys = [cy for cy in range(ny) for cx in range(nx) if cx * ny < nx * (ny - cy)]
    fx = np.ascontiguousarray(_cos_table(width)[cxs].T)  # (width, K)
    fy = np.ascontiguousarray(_cos_table(height)[cys].T)  # (height, K)
    fx.flags.writeable = False
    fy.flags.writeable = False
    return fx, fy


def _js_round(x: float) -> int:
    # Math.round breaks ties towards +infinity; Python and numpy round them to even.
    floor = math.floor(x)
    return floor + (x - floor >= 0.5)


def _js_round_array(x: _F64) -> _I64:
    # x - floor(x) is exact in float64, so this is Math.round bit for bit.
    floor = np.floor(x)
    return (floor + (x - floor >= 0.5)).astype(np.int64)


def _sequential_sum(terms: _F64) -> _F64:
    # JS adds one term at a time.  numpy reduces a C-contiguous (n, K>=2) array over axis 0
    # row by row (pairwise summation is only used along the contiguous axis), which is the
    # same order for every column.
    return np.add.reduce(terms, axis=0)


def _encode_channel(
    channel: _F64, width: int, height: int, nx: int, ny: int
) -> tuple[float, _F64, float]:
    fx, fy = _basis(width, height, nx, ny)
    k = fx.shape[1]
    terms = channel[:, :, None] * fx[None, :, :]  # channel[x + y * w] * fx[x] ...
    terms *= fy[:, None, :]  # ... * fy, in that order
    coefficients = _sequential_sum(terms.reshape(width * height, k))
    coefficients /= width * height
    ac = coefficients[1:]
    scale = float(np.abs(ac).max())
    if scale:
        ac = 0.5 + 0.5 / scale * ac
    return float(coefficients[0]), ac, scale


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    """Encode width x height 8-bit RGBA pixels (not premultiplied) exactly like rgbaToThumbHash."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"{width}x{height} doesn't fit in {MAX_SIDE}x{MAX_SIDE}")
    pixels = np.frombuffer(rgba, dtype=np.uint8)
    if pixels.size != width * height * 4:
        raise ValueError(f"expected {width * height * 4} RGBA bytes, got {pixels.size}")
    n = width * height
    px = pixels.reshape(n, 4).astype(np.float64)

    # Average colour, weighting each pixel by its alpha: avg += alpha / 255 * channel.
    alpha = px[:, 3] / 255
    weighted = np.empty((n, 4))
    np.multiply((alpha / 255)[:, None], px[:, :3], out=weighted[:, :3])
    weighted[:, 3] = alpha
    avg_r, avg_g, avg_b, avg_a = (float(v) for v in _sequential_sum(weighted))
    if avg_a:
        avg_r /= avg_a
        avg_g /= avg_a
        avg_b /= avg_a

    has_alpha = avg_a < n
    l_limit = 5 if has_alpha else 7  # fewer luminance bits when alpha needs room
    lx = max(1, _js_round(l_limit * width / max(width, height)))
    ly = max(1, _js_round(l_limit * height / max(width, height)))

    # Composite over the average colour, then convert to luminance and two chroma axes.
    inv_alpha = 1 - alpha
    r = avg_r * inv_alpha + weighted[:, 0]
    g = avg_g * inv_alpha + weighted[:, 1]
    b = avg_b * inv_alpha + weighted[:, 2]
    shape = (height, width)
    lum = ((r + g + b) / 3).reshape(shape)
    yellow_blue = ((r + g) / 2 - b).reshape(shape)
    red_green = (r - g).reshape(shape)

    l_dc, l_ac, l_scale = _encode_channel(lum, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(yellow_blue, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(red_green, width, height, 3, 3)
    acs = [l_ac, p_ac, q_ac]

    is_landscape = width > height
    header24 = (
        _js_round(63 * l_dc)
        | (_js_round(31.5 + 31.5 * p_dc) << 6)
        | (_js_round(31.5 + 31.5 * q_dc) << 12)
        | (_js_round(31 * l_scale) << 18)
        | (has_alpha << 23)
    )
    header16 = (
        (ly if is_landscape else lx)
        | (_js_round(63 * p_scale) << 3)
        | (_js_round(63 * q_scale) << 9)
        | (is_landscape << 15)
    )
    header = [header24, header24 >> 8, header24 >> 16, header16, header16 >> 8]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(alpha.reshape(shape), width, height, 5, 5)
        header.append(_js_round(15 * a_dc) | (_js_round(15 * a_scale) << 4))
        acs.append(a_ac)

    # Two 4-bit AC factors per byte, low nibble first.
    nibbles = _js_round_array(15 * np.concatenate(acs))
    if nibbles.size % 2:
        nibbles = np.append(nibbles, 0)
    packed = nibbles[0::2] | (nibbles[1::2] << 4)
    # Uint8Array keeps the low 8 bits of every entry.
    return bytes(v & 0xFF for v in header) + (packed & 0xFF).astype(np.uint8).tobytes()


def thumbhash_base64(width: int, height: int, rgba: bytes) -> str:
    """Encode like rgba_to_thumbhash and return the hash as standard base64 without newline."""
    return base64.b64encode(rgba_to_thumbhash(width, height, rgba)).decode("ascii")
