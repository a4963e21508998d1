"""Near-duplicate clusters of a dataset, against a brute-force O(N^2) reference."""

import random
from itertools import product

import numpy as np
import pytest

from assetflow.domain import clusters
from assetflow.domain.clusters import hashes_from_hex, near_duplicate_clusters, scan_clusters

KS = [0, 1, 3, 4, 6, 7, 9, 10]


def brute_force(hashes: list[int], k: int) -> tuple[list[list[int]], int]:
    """Every pair's distance, then union-find: the clusters, and the pairs of distinct
    hashes within k."""
    values = np.array(hashes, dtype=np.uint64)
    distance = np.bitwise_count(values[:, None] ^ values[None, :])
    first, second = np.nonzero(np.triu(distance <= k, 1))
    parent = list(range(len(hashes)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]  # path halving: a dense cluster stays fast
            x = parent[x]
        return x

    for a, b in zip(first.tolist(), second.tolist(), strict=True):
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in range(len(hashes)):
        groups.setdefault(find(i), []).append(i)
    found = sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))
    distinct = np.unique(values)
    distinct_distance = np.bitwise_count(distinct[:, None] ^ distinct[None, :])
    return found, int(np.triu(distinct_distance <= k, 1).sum())


def flip(rng: random.Random, value: int, bits: int, avoid: frozenset[int] = frozenset()) -> int:
    for bit in rng.sample(sorted(set(range(64)) - avoid), bits):
        value ^= 1 << bit
    return value


def planted(rng: random.Random, n: int, k: int) -> list[int]:
    """Random hashes, then near copies (0..k bits: exact copies too), pairs at exactly k and
    k + 1, and chains whose ends are only linked through the middle, shuffled."""
    hashes = [rng.getrandbits(64) for _ in range(n - n // 4)]
    while len(hashes) < n:
        base = rng.choice(hashes)
        kind = rng.randrange(4)
        if kind == 0:
            hashes.append(flip(rng, base, rng.randint(0, k)))
        elif kind == 1:
            hashes.append(flip(rng, base, k))
        elif kind == 2:
            hashes.append(flip(rng, base, k + 1))
        else:  # each step k bits others than the previous step's: ends 2k apart
            step, used = base, frozenset[int]()
            for _ in range(3):
                changed = flip(rng, step, k, used)
                used = frozenset(b for b in range(64) if (changed ^ step) >> b & 1)
                hashes.append(changed)
                step = changed
    rng.shuffle(hashes)
    return hashes[:n]


def dense(rng: random.Random, n: int, k: int) -> list[int]:
    """One scene's frames: a base with at most k // 2 of the same 16 bits flipped, so
    every two are within k: one cluster and ~n^2 / 2 near pairs."""
    base, bits = rng.getrandbits(64), rng.sample(range(64), 16)
    return [sum(1 << b for b in rng.sample(bits, rng.randint(0, k // 2))) ^ base for _ in range(n)]


def skewed(rng: random.Random, n: int, k: int) -> list[int]:
    """Band values drawn from a few values each: long runs of one band value, and many
    candidates in every probed band (the dense case)."""
    pool = [rng.getrandbits(16) for _ in range(5)]
    hashes = []
    for _ in range(n):
        value = 0
        for _band in range(4):
            value = value << 16 | rng.choice(pool)
        hashes.append(flip(rng, value, rng.randint(0, k // 2)))
    return hashes


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("seed", [1, 2])
def test_clusters_equal_the_brute_force_components(k: int, seed: int) -> None:
    rng = random.Random(seed * 100 + k)
    hashes = planted(rng, 2_000, k)
    expected, pairs = brute_force(hashes, k)
    scan = scan_clusters(hashes, k)
    assert scan.clusters == expected
    assert scan.pairs == pairs
    assert any(len(cluster) >= 3 for cluster in expected)  # the data does plant chains


@pytest.mark.parametrize("k", [0, 3, 6, 10])
@pytest.mark.parametrize("width", [1, 2, 3, 4, 8])
def test_every_block_width_finds_the_same_clusters(
    k: int, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The width follows the dataset's size (1 below ~200k hashes), so force each one:
    # padding slots, a block against itself, runs over several blocks.
    monkeypatch.setattr(clusters, "_block_width", lambda n: width)
    rng = random.Random(width * 100 + k)
    hashes = skewed(rng, 900, k) + dense(rng, 600, k) + planted(rng, 500, k)
    expected, pairs = brute_force(hashes, k)
    scan = scan_clusters(np.array(hashes, dtype=np.uint64), k)
    assert scan.clusters == expected
    assert scan.pairs == pairs


def test_padding_slots_never_join_a_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pads are random (they seldom pass the distance test); make them all pass instead.
    monkeypatch.setattr(clusters, "_block_width", lambda n: 4)
    monkeypatch.setattr(
        clusters, "_pads", lambda width, blocks: np.zeros((width, blocks), np.uint64)
    )
    rng = random.Random(7)
    hashes = [flip(rng, 0, rng.randint(1, 12)) for _ in range(300)] + planted(rng, 300, 6)
    expected, pairs = brute_force(hashes, 6)
    scan = scan_clusters(hashes, 6)
    assert scan.clusters == expected and scan.pairs == pairs


@pytest.mark.parametrize("k", [4, 6, 10])
def test_many_near_pairs_reduced_to_a_forest_give_the_same_clusters(
    k: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clusters, "_EDGES", 0)  # reduce the pairs after every chunk
    rng = random.Random(k)
    hashes = dense(rng, 1_000, k) + planted(rng, 1_000, k)
    expected, pairs = brute_force(hashes, k)
    scan = scan_clusters(hashes, k)
    assert scan.clusters == expected and scan.pairs == pairs
    assert len(expected[0]) > 100


@pytest.mark.parametrize("k", range(11))
def test_a_pair_k_apart_is_found_however_its_bits_spread_over_the_bands(k: int) -> None:
    # The pigeonhole argument probes each band within a radius only: every way of spreading
    # k (and k + 1) differing bits over the 4 bands must come out right.
    rng = random.Random(k)
    hashes = []
    for distance in (k, k + 1):
        for spread in product(range(distance + 1), repeat=4):
            if sum(spread) != distance:
                continue
            base = rng.getrandbits(64)
            other = base
            for band, bits in enumerate(spread):
                for bit in rng.sample(range(16), bits):
                    other ^= 1 << (16 * band + bit)
            hashes += [base, other]
    expected, _ = brute_force(hashes, k)
    assert near_duplicate_clusters(hashes, k) == expected


def test_random_hashes_compare_only_a_small_fraction_of_the_pairs() -> None:
    hashes = np.random.default_rng(3).integers(0, 2**64, size=4_000, dtype=np.uint64)
    scan = scan_clusters(hashes, 10)
    # 428 masks of 65,536 values: 0.65 % of the pairs, not all of them.
    assert 0 < scan.candidates < 0.01 * 4_000 * 3_999 / 2


def test_clusters_are_ordered_by_size_then_first_index() -> None:
    far = [0x0F0F_0F0F_0F0F_0F0F, 0xF0F0_F0F0_F0F0_F0F0, 0x3333_3333_3333_3333]
    hashes = [far[0], far[1], far[2], far[1] ^ 1, far[2] ^ 3, far[2] ^ 4, far[0] ^ (1 << 63)]
    assert near_duplicate_clusters(hashes, 3) == [[2, 4, 5], [0, 6], [1, 3]]


def test_the_distance_bound_is_inclusive() -> None:
    for k in range(11):
        # 0 and k bits: linked; the third is k + 2 bits from the first.
        hashes = [0, (1 << k) - 1, (1 << 63) | (((1 << (k + 1)) - 1) << 20)]
        assert near_duplicate_clusters(hashes, k) == [[0, 1]]


def test_edge_cases() -> None:
    assert near_duplicate_clusters([], 6) == []
    assert near_duplicate_clusters(np.empty(0, dtype=np.uint64), 6) == []
    assert near_duplicate_clusters([0x1234], 6) == []
    assert near_duplicate_clusters([7] * 5, 0) == [[0, 1, 2, 3, 4]]
    assert near_duplicate_clusters([2**64 - 1] * 3 + [0], 10) == [[0, 1, 2]]
    assert scan_clusters([7] * 5, 10).pairs == 0  # copies collapse before the pairs


@pytest.mark.parametrize("k", [-1, 11, 64, True, 2.0])
def test_k_out_of_range_is_refused(k: object) -> None:
    with pytest.raises(ValueError, match="k must be"):
        near_duplicate_clusters([1, 2], k)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[-1], [2**64], np.array([-1, 2]), np.array([[1, 2]])])
def test_hashes_must_be_unsigned_64_bit(bad: object) -> None:
    with pytest.raises(ValueError, match="hashes must"):
        near_duplicate_clusters(bad, 3)  # type: ignore[arg-type]


def test_hashes_from_hex_reads_the_stored_form() -> None:
    values = hashes_from_hex(["0123456789abcdef", "ffffffffffffffff", "0000000000000000"])
    assert values.dtype == np.uint64
    assert values.tolist() == [0x0123456789ABCDEF, 2**64 - 1, 0]
    near = hashes_from_hex(["0123456789abcdef", "0123456789abcdee"])
    assert near_duplicate_clusters(near, 1) == [[0, 1]]
