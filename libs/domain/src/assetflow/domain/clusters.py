"""Near-duplicate clusters of a whole dataset: connected components of "pHash distance <= k".

Every pair within distance k is found exactly, without comparing all N^2 pairs, by the
band argument of ``assetflow.readmodel.similarity``: the hash is cut into 4 bands of 16 bits
and a pair is a *candidate* when some band's values differ by a probed XOR mask; only the
candidates' distances are computed. The generalised pigeonhole principle (Qin et al., 2018)
needs fewer masks than radius ``k // 4`` in every band: with band ``b`` probed within radius
``r_b`` and ``sum(r_b + 1) >= k + 1``, a pair whose every band differed by more than its
radius would differ in more than k bits. Spread evenly, that is radii (2, 2, 2, 1) at k = 10
(428 masks, not 548), (1, 1, 1, 0) at k = 6 (52, not 68), (0, 0, 0, -1) at k = 2 (the last
band not probed at all).

Per band the distinct hashes are sorted by band value into blocks of ``width`` slots, so
one mask's candidates are whole blocks against whole blocks: a broadcast XOR and
``np.bitwise_count`` over ``(width, width, rows)``, ``_CHUNK`` comparisons at a time, so
memory stays bounded whatever N and k. The pairs within k are a graph's edges, and a
vectorised union-find (hook the larger root under the smaller, pointer jumping) gives its
connected components.
"""

from collections.abc import Iterator, Sequence
from itertools import combinations, pairwise
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from assetflow.readmodel.similarity import BAND_BITS, BANDS, HASH_BITS, MAX_DISTANCE

U64 = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.intp]

_VALUES: Final = 1 << BAND_BITS
_BAND_MASK: Final = np.uint64(_VALUES - 1)
# Pairs held before they are reduced to a spanning forest: bounds memory when a dataset
# has millions of near pairs (say, thousands of frames of one scene).
_EDGES: Final = 1 << 22
# Comparisons per vectorised step: ~2 MB of uint64 temporaries, small enough for the cache.
_CHUNK: Final = 1 << 18


class ClusterScan(NamedTuple):
    """The clusters and the work that found them (for benchmarks)."""

    clusters: list[list[int]]
    candidates: int
    """Pairs of distinct hashes whose distance was computed (sharing a probed band value)."""
    pairs: int
    """Pairs of distinct hashes within distance k: the edges of the graph."""


def hashes_from_hex(values: Sequence[str]) -> U64:
    """pHashes as stored (16 hex digits) -> a uint64 array."""
    return np.fromiter((int(v, 16) for v in values), dtype=np.uint64, count=len(values))


def near_duplicate_clusters(hashes: Sequence[int] | U64, k: int) -> list[list[int]]:
    """Clusters (distance <= k, transitively) of 2+ indices, sorted, largest then first."""
    return scan_clusters(hashes, k).clusters


def scan_clusters(hashes: Sequence[int] | U64, k: int) -> ClusterScan:
    """``near_duplicate_clusters`` with the candidates it verified and the pairs it found."""
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_DISTANCE:
        raise ValueError(f"k must be an integer within 0..{MAX_DISTANCE}, got {k!r}")
    values = _as_uint64(hashes)
    # Exact copies collapse to one node: they are a cluster already, and copies sharing
    # band values would make the candidates quadratic in the copies.
    distinct, inverse = np.unique(values, return_inverse=True)
    root, candidates, pairs = _linked(distinct, k)
    return ClusterScan(_clusters(root, inverse), candidates, pairs)


def _as_uint64(hashes: Sequence[int] | U64) -> U64:
    """The hashes as a 1-D uint64 array; ValueError for anything else."""
    if isinstance(hashes, np.ndarray):
        if hashes.ndim != 1 or not np.issubdtype(hashes.dtype, np.integer):
            raise ValueError("hashes must be a 1-D array of integers")
        if hashes.dtype != np.uint64 and hashes.size and hashes.min() < 0:
            raise ValueError("hashes must be unsigned 64-bit values")
        return hashes.astype(np.uint64, copy=False)
    try:
        return np.array(hashes, dtype=np.uint64).reshape(-1)
    except OverflowError as error:
        raise ValueError("hashes must be unsigned 64-bit values") from error


def _band_radii(k: int) -> list[int]:
    """Each band's probe radius (-1: not probed): ``sum(r + 1) == k + 1``, spread evenly."""
    return [(k + 1) // BANDS + (band < (k + 1) % BANDS) - 1 for band in range(BANDS)]


def _masks(radius: int) -> list[int]:
    """Every XOR mask of 0..radius bits within a band."""
    chosen = (bits for n in range(radius + 1) for bits in combinations(range(BAND_BITS), n))
    return [sum(1 << bit for bit in bits) for bits in chosen]


def _block_width(n: int) -> int:
    """Slots per block, by the mean number of hashes per band value (measured, 2 cores)."""
    # A block amortises the index arithmetic over width^2 comparisons, but a wider block
    # compares more padding: 100k hashes (1.5 a value) do best with 1, 1M (15) with 4.
    mean = n / _VALUES
    return 1 if mean < 3 else 2 if mean < 6 else 4 if mean < 24 else 8


def _linked(distinct: U64, k: int) -> tuple[Ints, int, int]:
    """Each distinct hash's component root; the candidates verified, the pairs within k."""
    n = distinct.size
    if n < 2:
        return np.arange(n), 0, 0
    edges: list[tuple[Ints, Ints]] = []
    candidates = pairs = pending = 0
    probed: list[tuple[np.uint64, int]] = []  # (shift, radius) of the bands already done
    for band, radius in enumerate(_band_radii(k)):
        if radius < 0:
            continue
        shift = np.uint64(BAND_BITS * (BANDS - 1 - band))
        layout = _Layout(distinct, ((distinct >> shift) & _BAND_MASK).astype(np.intp))
        for mask in _masks(radius):
            probe, reps, partner, verified = layout.probes(mask)
            candidates += verified
            for i, j in layout.compare(probe, reps, partner, k, same_value=mask == 0):
                # A pair within radius in an earlier band was found there: count it once.
                diff = distinct[i] ^ distinct[j]
                new = np.ones(i.size, dtype=bool)
                for earlier, limit in probed:
                    new &= np.bitwise_count((diff >> earlier) & _BAND_MASK) > limit
                edges.append((i[new], j[new]))
                pairs += edges[-1][0].size
                pending += edges[-1][0].size
                if pending > n + _EDGES:  # many near pairs: keep a spanning forest only
                    root = _components(n, edges)
                    tree = np.flatnonzero(root != np.arange(n))
                    edges, pending = [(tree, root[tree])], tree.size
        probed.append((shift, radius))
    return _components(n, edges), candidates, pairs


def _pads(width: int, blocks: int) -> U64:
    """Fillers of the padding slots: random, so they seldom pass (and are then dropped)."""
    return np.random.default_rng(0).integers(0, 2**64, size=(width, blocks), dtype=np.uint64)


class _Layout:
    """One band: the distinct hashes by band value, each value's run in blocks of slots."""

    # Stored slot-major, (width, blocks), so that every vectorised loop runs along blocks
    # (a loop along 4 slots costs 10x more). Padding slots hold random hashes and id -1.

    def __init__(self, distinct: U64, band_values: Ints) -> None:
        self.width = width = _block_width(distinct.size)
        self.counts = np.bincount(band_values, minlength=_VALUES)
        self.blocks = -(-self.counts // width)
        self.first_block = np.cumsum(self.blocks) - self.blocks
        self.occupied = np.flatnonzero(self.counts)
        self.block_value = np.repeat(np.arange(_VALUES), self.blocks)
        self._by_top: dict[int, tuple[Ints, Ints]] = {}
        order = np.argsort(band_values.astype(np.uint16), kind="stable")  # a radix sort
        sorted_values = band_values[order]
        rank = np.arange(order.size) - (np.cumsum(self.counts) - self.counts)[sorted_values]
        block = self.first_block[sorted_values] + rank // width
        slot = rank % width
        self.table = _pads(width, self.block_value.size)
        self.table[slot, block] = distinct[order]
        self.ids = np.full((width, self.block_value.size), -1, dtype=np.intp)
        self.ids[slot, block] = order

    def probes(self, mask: int) -> tuple[Ints, Ints, Ints, int]:
        """Probe blocks, how many partner blocks each, the first of them; candidate pairs."""
        counts, blocks, first_block = self.counts, self.blocks, self.first_block
        if mask == 0:  # same value: each block against itself and the run's later blocks
            probe = np.arange(self.block_value.size)
            ends = (first_block + blocks)[self.block_value]
            pairs = int((counts * (counts - 1) // 2).sum())
            return probe, ends - probe, probe, pairs
        # Values u and u ^ mask pair once: from the one without the mask's top bit. The
        # blocks and values without a given top bit serve ~8 masks each, so are kept.
        top = 1 << (mask.bit_length() - 1)
        if top not in self._by_top:
            self._by_top[top] = (
                np.flatnonzero(self.block_value & top == 0),
                self.occupied[self.occupied & top == 0],
            )
        probe, values = self._by_top[top]
        others = self.block_value[probe] ^ mask
        pairs = int((counts[values] * counts[values ^ mask]).sum())
        return probe, blocks[others], first_block[others], pairs

    def compare(
        self, probe: Ints, reps: Ints, partner: Ints, k: int, *, same_value: bool
    ) -> Iterator[tuple[Ints, Ints]]:
        """Pairs of hash ids within distance k among those block pairs, chunk by chunk."""
        ends = np.cumsum(reps)
        step = max(1, _CHUNK // self.width**2)
        lo = 0
        while lo < probe.size:
            base = int(ends[lo - 1]) if lo else 0
            hi = max(lo + 1, int(np.searchsorted(ends, base + step, side="right")))
            chunk, r, first = probe[lo:hi], reps[lo:hi], partner[lo:hi]
            chunk_ends = ends[lo:hi] - base
            lo = hi
            if chunk_ends[-1] == 0:
                continue
            # Row t compares a probe block (repeated) with partner block other[t].
            other = np.repeat(first - (chunk_ends - r), r)
            other += np.arange(other.size)
            own_hashes = np.repeat(self.table[:, chunk], r, axis=1)
            other_hashes = self.table.take(other, axis=1)
            distance = np.bitwise_count(own_hashes[:, None, :] ^ other_hashes[None, :, :])
            if same_value:  # a block against itself: not each hash with itself (distance 0)
                itself = np.flatnonzero(np.repeat(chunk, r) == other)
                slots = np.arange(self.width)
                distance[slots[:, None], slots[:, None], itself] = HASH_BITS
            near = distance <= k
            if not near.any():  # the common case: a cheap test before the indices
                continue
            slot_a, rest = np.divmod(np.flatnonzero(near), self.width * other.size)
            slot_b, row = np.divmod(rest, other.size)
            own = chunk[np.searchsorted(chunk_ends, row, side="right")]
            other = other[row]
            i, j = self.ids[slot_a, own], self.ids[slot_b, other]
            keep = (i >= 0) & (j >= 0)
            if same_value:  # within a block, the pair (b, a) repeats (a, b)
                keep &= (own != other) | (slot_a < slot_b)
            yield i[keep], j[keep]


def _components(n: int, edges: list[tuple[Ints, Ints]]) -> Ints:
    """Each node's component, named by its smallest node (vectorised union-find)."""
    parent = np.arange(n)
    if not edges:
        return parent
    first = np.concatenate([edge[0] for edge in edges])
    second = np.concatenate([edge[1] for edge in edges])
    while first.size:
        a, b = parent[first], parent[second]  # roots: every node points at its root
        apart = a != b
        first, second, a, b = first[apart], second[apart], a[apart], b[apart]
        # Hook the larger root under the smaller: parent[x] <= x, so no cycle can form.
        np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))
        while True:  # pointer jumping until every node points at its root again
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def _clusters(root: Ints, inverse: Ints) -> list[list[int]]:
    """Original indices grouped by component, components of 2+ images only, ordered."""
    copies = np.bincount(inverse, minlength=root.size)
    size = np.bincount(root, weights=copies, minlength=root.size)
    members = np.flatnonzero(size[root[inverse]] >= 2)  # ascending
    if members.size == 0:
        return []
    labels = root[inverse[members]]
    order = np.argsort(labels, kind="stable")  # keeps each cluster's indices ascending
    members, labels = members[order], labels[order]
    cuts = [0, *(np.flatnonzero(np.diff(labels)) + 1).tolist(), members.size]
    flat = members.tolist()
    clusters = [flat[lo:hi] for lo, hi in pairwise(cuts)]
    clusters.sort(key=lambda cluster: (-len(cluster), cluster[0]))
    return clusters
