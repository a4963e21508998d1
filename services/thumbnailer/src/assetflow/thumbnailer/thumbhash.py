"""ThumbHash encoder: a byte-exact numpy port of the JS reference ``rgbaToThumbHash``."""

# Kept over PyPI by measurement (2026-12-04, AMD EPYC, 2 shared cores, Python 3.11, numpy 2.4):
# `.venv/bin/python bench/thumbhash_bench.py --lib NAME=DIR ...` on the 8 RGBA buffers (<= 100x100)
# that rendering.py hands this module, median us per hash over two runs: ours 288-340;
# thumbhash-rs 0.1.0, the official Rust crate, 948-963 (2.8-3.3x slower); the pure Python
# thumbhash-python 1.0.1 and thumbhash 0.1.2, 44,000-77,000.  Faster: fast-thumbhash-rs 0.1.0
# (40-43) and thash 1.2.1 (132-150), but like thumbhash-rs they compute in float32 and match the
# JS reference on 2 of the 7 vectors in tests/unit/test_thumbhash.py (ours 7/7); fast-thumbhash-rs
# is a first release whose crate disclaims bit-identity.  Either way the hash is ~0.3 % of a
# render's ~80 ms of CPU.  tests/unit/test_thumbhash.py checks ours against thumbhash-rs on photos.

import base64
import math
import struct
from functools import cache, lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

MAX_SIDE = 100

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]

# The reference hashes are the spec, and some of their bits are decided by float64 rounding
# noise: a DCT term that is zero in exact arithmetic (symmetric images have many) lands on 7.5
# after scaling and Math.round picks 7 or 8 by the sign of the noise, and a flat image's AC
# terms are nothing but noise amplified by 1/scale.  Every value that reaches Math.round
# therefore has to be computed with the reference's own float64 operations, in its order, or
# be provably far enough from a rounding tie that the order cannot matter.


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


@lru_cache(maxsize=64)  # cheap to rebuild from the cached cos tables
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


class _Channel(NamedTuple):
    values: _F64  # (height, width)
    nx: int
    ny: int
    # What the header does with the DC and the AC scale before Math.round.
    dc_offset: float
    dc_factor: float
    scale_factor: float


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


def _pre_round(coefficients: _F64, channel: _Channel) -> tuple[float, float, _F64]:
    # The reference's arithmetic between the DCT and Math.round: DC, scale and AC factors.
    ac = coefficients[1:]
    scale = float(np.abs(ac).max())
    if scale:
        ac = 0.5 + 0.5 / scale * ac
    dc = channel.dc_offset + channel.dc_factor * float(coefficients[0])
    return dc, channel.scale_factor * scale, 15 * ac


def _fast_dct(channel: _Channel) -> _F64 | None:
    # Separable DCT through BLAS: sums in another order than the reference, so it is only
    # returned when no rounding could tell the difference.
    values = channel.values
    height, width = values.shape
    n = width * height
    fx, fy = _basis(width, height, channel.nx, channel.ny)
    coefficients: _F64 = ((values @ fx) * fy).sum(axis=0) / n
    # Any summation order of n terms, each |channel| * |cos| * |cos| <= |channel|, is within
    # (n + 1) * 2**-53 * sum|channel| of the exact sum, and this one within
    # (width + height + 2) * 2**-53 * sum|channel|; an ulp each for the division.  Doubling
    # (2**-52) leaves room for the first-order approximation and the estimated sum|channel|.
    max_abs = float(np.abs(coefficients).max())
    error = (n + width + height + 8) * 2.0**-52 * (float(np.abs(values).sum()) / n + max_abs)
    if not error:
        return coefficients  # an all-zero channel sums to exact zeros in any order
    ac = np.abs(coefficients[1:])
    low_scale = float(ac.max()) - error
    if low_scale <= 0:
        return None  # the reference might see scale 0, or amplify pure rounding noise
    dc, scale, factors = _pre_round(coefficients, channel)
    # 1e-12 more for evaluating _pre_round's few operations at a nearby point.
    slack = 1e-12
    dc_ok = _tie_distance(np.array([dc, scale])) > np.array(
        [channel.dc_factor * error + slack, channel.scale_factor * error + slack]
    )
    # 15 * (0.5 + 0.5 * ac / scale) moves by at most 7.5 * (d_ac / scale + ac * d_scale / scale**2).
    factor_error = 7.5 * error * (1 / low_scale + (ac + error) / low_scale**2) + slack
    if dc_ok.all() and (_tie_distance(factors) > factor_error).all():
        return coefficients
    return None


# Terms per block of the exact DCT: a few hundred KiB, so each block stays in L2 cache.
_EXACT_BLOCK_TERMS = 32_768


def _exact_dcts(channels: list[_Channel]) -> list[_F64]:
    # The reference adds every term to one accumulator per coefficient, y-major, x-minor.
    # Here all coefficients of all channels are columns of one (pixel, coefficient) block per
    # few rows: numpy reduces a C-contiguous (m, K >= 2) array over axis 0 row by row
    # (pairwise summation only runs along the contiguous axis), which is the reference's
    # order for every column at once.  Each channel has at least 6 coefficients.
    height, width = channels[0].values.shape
    bases = [_basis(width, height, c.nx, c.ny) for c in channels]
    counts = [fx.shape[1] for fx, _ in bases]
    fx = np.hstack([basis[0] for basis in bases])  # (width, K)
    fy = np.hstack([basis[1] for basis in bases])  # (height, K)
    k = fx.shape[1]
    values = np.stack([c.values.reshape(-1) for c in channels], axis=1)  # (pixel, channel)
    rows = max(1, _EXACT_BLOCK_TERMS // (width * k))
    sums = np.zeros(k)
    for y0 in range(0, height, rows):
        y1 = min(height, y0 + rows)
        terms = np.repeat(values[y0 * width : y1 * width], counts, axis=1)
        grid = terms.reshape(y1 - y0, width, k)
        np.multiply(grid, fx, out=grid)  # channel[x + y * w] * fx[x] ...
        np.multiply(grid, fy[y0:y1, None, :], out=grid)  # ... * fy, in that order
        terms[0] += sums  # carry the running sums into this block's first addition
        sums = np.add.reduce(terms, axis=0)
    coefficients: _F64 = sums / (width * height)
    return np.split(coefficients, np.cumsum(counts)[:-1])


def _encode(channels: list[_Channel]) -> list[tuple[int, int, _I64]]:
    # Rounded (DC, scale, AC factors) per channel, exactly as the reference would round them.
    found = [_fast_dct(channel) for channel in channels]
    redo = [
        channel
        for channel, coefficients in zip(channels, found, strict=True)
        if coefficients is None
    ]
    exact = iter(_exact_dcts(redo) if redo else [])
    encoded = []
    for channel, coefficients in zip(channels, found, strict=True):
        dc, scale, factors = _pre_round(
            next(exact) if coefficients is None else coefficients, channel
        )
        encoded.append((_js_round(dc), _js_round(scale), _js_round_array(factors)))
    return encoded


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    """Encode width x height 8-bit RGBA pixels (not premultiplied) exactly like rgbaToThumbHash."""
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"{width}x{height} doesn't fit in {MAX_SIDE}x{MAX_SIDE}")
    pixels = np.frombuffer(rgba, dtype=np.uint8)
    if pixels.size != width * height * 4:
        raise ValueError(f"expected {width * height * 4} RGBA bytes, got {pixels.size}")
    n = width * height
    planes = pixels.reshape(n, 4).T.astype(np.float64, order="C")  # (RGBA, pixel)
    alpha = planes[3] / 255
    weighted = alpha / 255 * planes[:3]  # the reference's alpha / 255 * rgba[j]
    if bool((planes[3] == 255).all()):
        # Opaque: the average colour only ever gets multiplied by 1 - alpha == 0, and n ones
        # add up to exactly n in any order, so the sequential averaging can be skipped.
        avg_a = float(n)
        rgb = weighted
    else:
        # The reference averages with a running sum; accumulate is that running sum.
        sums = np.add.accumulate(np.vstack([weighted, alpha]), axis=1)[:, -1]
        avg_a = float(sums[3])
        avg = sums[:3] / avg_a if avg_a else sums[:3]
        # Composite over the average colour: avg * (1 - alpha) + alpha / 255 * rgba[j].
        rgb = avg[:, None] * (1 - alpha) + weighted

    has_alpha = avg_a < n
    l_limit = 5 if has_alpha else 7  # fewer luminance bits when alpha needs room
    lx = max(1, _js_round(l_limit * width / max(width, height)))
    ly = max(1, _js_round(l_limit * height / max(width, height)))

    r, g, b = rgb
    shape = (height, width)
    channels = [
        _Channel(((r + g + b) / 3).reshape(shape), max(3, lx), max(3, ly), 0, 63, 31),
        _Channel(((r + g) / 2 - b).reshape(shape), 3, 3, 31.5, 31.5, 63),  # yellow - blue
        _Channel((r - g).reshape(shape), 3, 3, 31.5, 31.5, 63),  # red - green
    ]
    if has_alpha:
        channels.append(_Channel(alpha.reshape(shape), 5, 5, 0, 15, 15))
    encoded = _encode(channels)
    (l_dc, l_scale, _), (p_dc, p_scale, _), (q_dc, q_scale, _) = encoded[:3]

    is_landscape = width > height
    header24 = l_dc | (p_dc << 6) | (q_dc << 12) | (l_scale << 18) | (has_alpha << 23)
    header16 = (ly if is_landscape else lx) | (p_scale << 3) | (q_scale << 9) | (is_landscape << 15)
    header = [header24, header24 >> 8, header24 >> 16, header16, header16 >> 8]
    if has_alpha:
        a_dc, a_scale, _ = encoded[3]
        header.append(a_dc | (a_scale << 4))

    # Two 4-bit AC factors per byte, low nibble first.
    nibbles = np.concatenate([factors for _, _, factors in encoded])
    if nibbles.size % 2:
        nibbles = np.append(nibbles, 0)
    packed: _I64 = nibbles[0::2] | (nibbles[1::2] << 4)
    # Uint8Array keeps the low 8 bits of every entry.
    return bytes(v & 0xFF for v in header) + bytes((packed & 0xFF).astype(np.uint8))


def thumbhash_base64(width: int, height: int, rgba: bytes) -> str:
    """Encode like rgba_to_thumbhash and return the hash as standard base64 without newline."""
    return base64.b64encode(rgba_to_thumbhash(width, height, rgba)).decode("ascii")
