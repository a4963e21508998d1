"""Tag normalisation, validation and how changes apply."""

import pytest

from assetflow.contracts.tags import (
    InvalidTagError,
    changed_tags,
    merge_upload_tags,
    normalize_tag,
    normalize_tags,
    parse_upload_tags,
)


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("Cat", "cat"),
        ("  Dog  ", "dog"),
        ("Cafe\u0301", "café"),  # decomposed é becomes the composed one (NFC)
        ("ÉTÉ", "été"),
        ("street/night", "street/night"),
        ("x" * 64, "x" * 64),
    ],
)
def test_normalize_tag(raw: str, tag: str) -> None:
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 65, "longer than 64"),
        ("a,b", "comma"),
        ("a\tb", "control character"),
        ("a\x00", "control character"),
    ],
)
def test_invalid_tags_say_why(raw: str, reason: str) -> None:
    with pytest.raises(InvalidTagError, match=reason):
        normalize_tag(raw)


def test_normalize_tags_dedupes_sorts_and_limits() -> None:
    assert normalize_tags(["b", "A", "a ", "B"]) == ["a", "b"]
    assert len(normalize_tags([f"t{i}" for i in range(50)])) == 50
    with pytest.raises(InvalidTagError, match="at most 50"):
        normalize_tags([f"t{i}" for i in range(51)])


def test_upload_tags_are_lenient_and_percent_decoded() -> None:
    parsed = parse_upload_tags("Cat, d%C3%B6g ,,x,%FF," + "y" * 65)
    assert parsed.tags == ["cat", "dög", "x"]
    assert parsed.dropped == ["%FF", "y" * 65]
    assert parse_upload_tags(None).tags == []


def test_upload_tags_beyond_the_limit_are_dropped() -> None:
    parsed = parse_upload_tags(",".join(f"t{i:02d}" for i in range(60)))
    assert len(parsed.tags) == 50 and len(parsed.dropped) == 10


def test_changed_tags_removes_then_adds() -> None:
    assert changed_tags(["a", "b"], add=["c"], remove=["a", "zz"]) == ["b", "c"]
    assert changed_tags([], add=[], remove=["a"]) == []


def test_merge_upload_tags_keeps_existing_first_when_over_the_limit() -> None:
    current = [f"t{i:02d}" for i in range(49)]
    assert merge_upload_tags(current, ["zz", "aa"]) == sorted([*current, "aa"])
    assert merge_upload_tags(["b"], ["a"]) == ["a", "b"]
