"""Near duplicates: 64-bit perceptual hashes, their Hamming distance, and the band index.

A query "every image within Hamming distance k of h" must not scan the dataset, so each
image also stores its hash cut into ``BANDS`` bands of ``BAND_BITS`` bits, as one multikey
field (``F.PHASH_BANDS``, each entry ``band_index << BAND_BITS | band_value``) under the
index ``{dataset_id, deleted, phash_bands}``.

Why 4 bands of 16 bits, probed within radius ``k // 4`` (multi-index hashing, Norouzi et
al. 2012), rather than 8 bands of 8 bits matched exactly:

- **Exact for every k.** If two hashes differ in at most k bits, then by pigeonhole some
  band differs in at most ``k // BANDS`` bits. So probing each band's value and every value
  within that radius finds every match; the distance is then verified on the candidates.
  8 exact 8-bit bands are exact only for k < 8 (the API allows up to 10).
- **Far fewer candidates.** A random image shares a given 8-bit band value with
  probability 1/256, so 8 exact bands fetch ~3 % of a dataset (30,000 candidates at 1M
  images) whatever k is. A 16-bit band value matches 1/65,536: k <= 3 probes 4 keys
  (0.006 %), k 4..7 probes 4 x 17 = 68 keys (0.1 %), k 8..10 probes 4 x 137 = 548 keys
  (0.8 %). The probes are points of one index, ``$in`` on the multikey field.
- **One index, not eight.** A write updates one B-tree (4 keys) instead of 8 indexes.

``bench/similar_bench.py`` (docs/benchmarks.md) measured the API's query on 1M uniformly
random hashes at p50 2.9 / 9.0 / 37.5 ms for k = 3 / 6 / 10, 1.4 / 2.3 / 4.9x its time at 100k:
the candidates grow with the dataset, but are read from the index alone.
"""

from functools import cache
from itertools import combinations
from typing import Final

HASH_BITS: Final = 64
BANDS: Final = 4
BAND_BITS: Final = HASH_BITS // BANDS
MAX_DISTANCE: Final = 10
"""The largest k the API accepts (its probes stay under 600 index points)."""
_BAND_MASK: Final = (1 << BAND_BITS) - 1


def hamming(a: str, b: str) -> int:
    """Bits that differ between two hashes written as hex."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def bands(phash: str) -> list[int]:
    """The band keys an image stores: ``band_index << BAND_BITS | band_value``, first band
    the most significant bits."""
    value = int(phash, 16)
    return [
        (index << BAND_BITS) | ((value >> (BAND_BITS * (BANDS - 1 - index))) & _BAND_MASK)
        for index in range(BANDS)
    ]


@cache
def _flips(radius: int) -> tuple[int, ...]:
    """Every XOR mask of at most ``radius`` bits within one band."""
    masks = [0]
    for bits in range(1, radius + 1):
        for chosen in combinations(range(BAND_BITS), bits):
            masks.append(sum(1 << bit for bit in chosen))
    return tuple(masks)


def probe_keys(phash: str, k: int) -> list[int]:
    """Band keys whose images include every image within distance ``k`` of ``phash``.

    Some band of a match differs by at most ``k // BANDS`` bits (pigeonhole), so each band's
    keys within that radius are probed.
    """
    if not 0 <= k <= HASH_BITS:
        raise ValueError(f"k must be within 0..{HASH_BITS}, got {k}")
    masks = _flips(k // BANDS)
    keys: list[int] = []
    for key in bands(phash):
        index, value = key >> BAND_BITS, key & _BAND_MASK
        keys.extend((index << BAND_BITS) | (value ^ mask) for mask in masks)
    return keys
