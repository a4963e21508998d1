"""Sequencer normalization and ordering."""

import pytest

from assetflow.contracts.sequencer import is_newer, normalize_sequencer


def test_numeric_order_survives_different_lengths() -> None:
    short, long_ = normalize_sequencer("FF"), normalize_sequencer("100")
    assert short < long_
    assert is_newer(long_, short) and not is_newer(short, long_)


def test_case_insensitive_and_padded() -> None:
    assert normalize_sequencer("18a2b") == normalize_sequencer("0018A2B")
    assert len(normalize_sequencer("1")) == 32


def test_equal_is_not_newer_and_absent_is_older() -> None:
    seq = normalize_sequencer("187C3A1B2D4E5F60")
    assert not is_newer(seq, seq)
    assert is_newer(seq, None)


@pytest.mark.parametrize("raw", ["", "xyz", "12-34", "1" * 33])
def test_rejects_garbage(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_sequencer(raw)


def test_minio_nanosecond_sequencers_order_like_time() -> None:
    earlier = normalize_sequencer(f"{1_763_776_000_000_000_000:X}")
    later = normalize_sequencer(f"{1_763_776_000_000_000_001:X}")
    assert is_newer(later, earlier)
