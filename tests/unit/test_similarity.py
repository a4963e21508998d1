"""Hamming distance, the pHash bands and the probes that find every near duplicate."""

import random

import pytest

from assetflow.readmodel.images import F, result_fields
from assetflow.readmodel.similarity import (
    BAND_BITS,
    BANDS,
    MAX_DISTANCE,
    bands,
    hamming,
    probe_keys,
)
from tests.support.events import created, thumbnails_created


def flip(phash: str, bits: list[int]) -> str:
    value = int(phash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


def test_hamming_counts_differing_bits() -> None:
    assert hamming("0" * 16, "0" * 16) == 0
    assert hamming("0" * 16, "f" * 16) == 64
    assert hamming("8000000000000001", "0000000000000000") == 2


def test_bands_are_the_hash_cut_in_four_tagged_with_their_index() -> None:
    assert bands("0123456789abcdef") == [0x0123, (1 << 16) | 0x4567, (2 << 16) | 0x89AB,
                                         (3 << 16) | 0xCDEF]  # fmt: skip
    assert BANDS * BAND_BITS == 64


@pytest.mark.parametrize(("k", "keys"), [(0, 4), (3, 4), (4, 68), (6, 68), (7, 68), (10, 548)])
def test_probes_grow_with_the_radius_k_needs(k: int, keys: int) -> None:
    probes = probe_keys("0123456789abcdef", k)
    assert len(probes) == len(set(probes)) == keys


@pytest.mark.parametrize("k", range(MAX_DISTANCE + 1))
def test_every_hash_within_k_shares_a_probed_band_key(k: int) -> None:
    # Pigeonhole: some band of a match differs in at most k // 4 bits, and is probed.
    rng = random.Random(k)
    for _ in range(300):
        phash = f"{rng.getrandbits(64):016x}"
        probes = set(probe_keys(phash, k))
        # Spread the flips adversarially too: as evenly over the bands as possible.
        spread = [band * BAND_BITS + i for i in range(BAND_BITS) for band in range(BANDS)][:k]
        for bits in (rng.sample(range(64), rng.randint(0, k)), spread):
            near = flip(phash, bits)
            assert hamming(phash, near) <= k
            assert probes & set(bands(near)), (phash, near, k)


def test_k_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be"):
        probe_keys("0" * 16, -1)


def test_a_result_stores_its_bands_and_one_without_a_phash_none() -> None:
    event = created("d/images/a.jpg", 1)
    fields = result_fields(thumbnails_created(event, phash="0123456789abcdef"), event.event_time)
    assert fields[F.PHASH_BANDS] == bands("0123456789abcdef")
    assert result_fields(thumbnails_created(event), event.event_time)[F.PHASH_BANDS] == []
