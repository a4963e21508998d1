"""Key decoding, dataset/path derivation and document ids."""

import re
from urllib.parse import quote_plus

import pytest

from assetflow.contracts.layout import decode_event_key, image_id, message_key, parse_object_key


def go_query_escape(key: str) -> str:
    """What MinIO puts in event records (Go's url.QueryEscape)."""
    return quote_plus(key, safe="")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ds1%2Fimages%2Fa+b.jpg", "ds1/images/a b.jpg"),
        ("ds1%2Fimages%2Fa%2Bb.jpg", "ds1/images/a+b.jpg"),
        ("ds1%2Fimages%2Fcaf%C3%A9%2F%E7%8C%AB.png", "ds1/images/café/猫.png"),
        ("ds1%2Fimages%2F100%25.jpg", "ds1/images/100%.jpg"),
        ("ds1/images/plain.jpg", "ds1/images/plain.jpg"),
    ],
)
def test_decode_event_key(raw: str, expected: str) -> None:
    assert decode_event_key(raw) == expected


@pytest.mark.parametrize(
    "key", ["a b/images/x y+z.jpg", "d/images/ünï/çødé 😀.jpeg", "d/images/%41&=?#.png"]
)
def test_decode_round_trips_go_query_escape(key: str) -> None:
    assert decode_event_key(go_query_escape(key)) == key


def test_decode_rejects_invalid_utf8() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode_event_key("ds%2Fimages%2F%FF.jpg")


def test_parse_nested_key() -> None:
    loc = parse_object_key("cats/images/2024/june/a b.jpg")
    assert loc is not None
    assert (loc.dataset_id, loc.path, loc.folder, loc.file_name) == (
        "cats",
        "2024/june/a b.jpg",
        "2024/june",
        "a b.jpg",
    )


def test_parse_top_level_image_has_empty_folder() -> None:
    loc = parse_object_key("cats/images/x.png")
    assert loc is not None and (loc.folder, loc.file_name, loc.path) == ("", "x.png", "x.png")


@pytest.mark.parametrize(
    "key",
    [
        "cats",
        "cats/",
        "cats/x.png",
        "cats/labels/x.json",
        "cats/images/",
        "cats/images/dir/",
        "/images/x.png",
        "cats/imagesx/y.png",
    ],
)
def test_keys_outside_layout_are_rejected(key: str) -> None:
    assert parse_object_key(key) is None


def test_image_id_is_deterministic_url_safe_and_distinct() -> None:
    a = image_id("datasets", "cats/images/a b.jpg")
    assert a == image_id("datasets", "cats/images/a b.jpg")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", a)
    assert a != image_id("datasets", "cats/images/a+b.jpg")
    assert a != image_id("other", "cats/images/a b.jpg")


def test_message_key_groups_by_object() -> None:
    assert message_key("datasets", "d/images/ü.jpg") == "datasets/d/images/ü.jpg".encode()
