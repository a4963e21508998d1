"""ThumbHash encoder: a byte-exact numpy port of the JS reference ``rgbaToThumbHash``."""

import base64
import math
import struct
from functools import cache, lru_cache

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


@cache  # one entry per side length, so at most MAX_SIDE of them
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


def _tie_distance(x: _F64) -> _F64:
    # How far each value is from a point where Math.round changes its answer.
    return np.abs(x - np.floor(x) - 0.5)


# Terms per block of the exact DCT: a few hundred KiB, so the block stays in L2 cache.
_EXACT_BLOCK_TERMS = 32_768


def _exact_dct(channel: _F64, fx: _F64, fy: _F64) -> _F64:
    # The reference sums every term into one accumulator per coefficient, y-major, so that is
    # what happens here: blocks of rows laid out (pixel, coefficient), with the running sums
    # as the block's first row.  numpy reduces a C-contiguous (m, K>=2) array over axis 0 row
    # by row (pairwise summation only runs along the contiguous axis), which is exactly the
    # reference's order for every column at once.
    height, width = channel.shape
    k = fx.shape[1]
    rows = max(1, _EXACT_BLOCK_TERMS // (width * k))
    block = np.empty((rows * width + 1, k))
    sums = np.zeros(k)
    for y0 in range(0, height, rows):
        y1 = min(height, y0 + rows)
        part = block[: (y1 - y0) * width + 1]
        part[0] = sums
        terms = part[1:].reshape(y1 - y0, width, k)
        np.multiply(channel[y0:y1, :, None], fx, out=terms)  # channel[x + y * w] * fx[x] ...
        terms *= fy[y0:y1, None, :]  # ... * fy, in that order
        sums = np.add.reduce(part, axis=0)
    coefficients: _F64 = sums / (width * height)
    return coefficients


def _quantize(
    coefficients: _F64, dc_offset: float, dc_factor: float, scale_factor: float
) -> tuple[float, float, _F64]:
    # The reference's arithmetic from DCT output to the values it passes to Math.round.
    ac = coefficients[1:]
    scale = float(np.abs(ac).max())
    if scale:
        ac = 0.5 + 0.5 / scale * ac
    return dc_offset + dc_factor * float(coefficients[0]), scale_factor * scale, 15 * ac


def _fast_result_is_certain(
    coefficients: _F64, error: float, dc_offset: float, dc_factor: float, scale_factor: float
) -> bool:
    # Would every Math.round give the same integer if each coefficient moved by up to error?
    dc, scale, nibbles = _quantize(coefficients, dc_offset, dc_factor, scale_factor)
    if not error:
        return True  # an all-zero channel: every summation order gives exact zeros
    ac = np.abs(coefficients[1:])
    low_scale = float(ac.max()) - error
    if low_scale <= 0:
        return False  # the reference might see scale 0 or amplify pure rounding noise
    # Slack for re-evaluating the few float operations of _quantize at a nearby point.
    slack = 1e-12
    nibble_error = 7.5 * error * (1 / low_scale + (ac + error) / low_scale**2) + slack
    headers_ok = _tie_distance(np.array([dc, scale])) > np.array(
        [dc_factor * error + slack, scale_factor * error + slack]
    )
    return bool(headers_ok.all() and (_tie_distance(nibbles) > nibble_error).all())


def _encode_channel(
    channel: _F64,
    nx: int,
    ny: int,
    dc_offset: float,
    dc_factor: float,
    scale_factor: float,
) -> tuple[int, int, _I64]:
    height, width = channel.shape
    n = width * height
    fx, fy = _basis(width, height, nx, ny)
    # Fast path: separable DCT through BLAS, summed in a different order from the reference.
    coefficients = ((channel @ fx) * fy).sum(axis=0) / n
    # Any summation order of these n * |cos| <= 1 weighted terms is within
    # (n + w + h + 3) * 2**-53 * mean|channel| of the exact sum, plus an ulp for the division;
    # twice that covers both our order and the reference's.
    mean_abs = float(np.abs(channel).sum()) / n
    error = (n + width + height + 8) * 2.0**-52 * (mean_abs + float(np.abs(coefficients).max()))
    if not _fast_result_is_certain(coefficients, error, dc_offset, dc_factor, scale_factor):
        # Some rounding sits within the error bound (symmetric or flat images do this by
        # construction), so only the reference's exact summation order can decide it.
        coefficients = _exact_dct(channel, fx, fy)
    dc, scale, nibbles = _quantize(coefficients, dc_offset, dc_factor, scale_factor)
    return _js_round(dc), _js_round(scale), _js_round_array(nibbles)


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
    # Row-by-row reduction over axis 0 adds in pixel order, like the reference's loop.
    avg_r, avg_g, avg_b, avg_a = (float(v) for v in np.add.reduce(weighted, axis=0))
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

    l_dc, l_scale, l_ac = _encode_channel(lum, max(3, lx), max(3, ly), 0, 63, 31)
    p_dc, p_scale, p_ac = _encode_channel(yellow_blue, 3, 3, 31.5, 31.5, 63)
    q_dc, q_scale, q_ac = _encode_channel(red_green, 3, 3, 31.5, 31.5, 63)
    acs = [l_ac, p_ac, q_ac]

    is_landscape = width > height
    header24 = l_dc | (p_dc << 6) | (q_dc << 12) | (l_scale << 18) | (has_alpha << 23)
    header16 = (ly if is_landscape else lx) | (p_scale << 3) | (q_scale << 9) | (is_landscape << 15)
    header = [header24, header24 >> 8, header24 >> 16, header16, header16 >> 8]
    if has_alpha:
        a_dc, a_scale, a_ac = _encode_channel(alpha.reshape(shape), 5, 5, 0, 15, 15)
        header.append(a_dc | (a_scale << 4))
        acs.append(a_ac)

    # Two 4-bit AC factors per byte, low nibble first.
    nibbles = np.concatenate(acs)
    if nibbles.size % 2:
        nibbles = np.append(nibbles, 0)
    packed = nibbles[0::2] | (nibbles[1::2] << 4)
    # Uint8Array keeps the low 8 bits of every entry.
    return bytes(v & 0xFF for v in header) + (packed & 0xFF).astype(np.uint8).tobytes()


def thumbhash_base64(width: int, height: int, rgba: bytes) -> str:
    """Encode like rgba_to_thumbhash and return the hash as standard base64 without newline."""
    return base64.b64encode(rgba_to_thumbhash(width, height, rgba)).decode("ascii")
