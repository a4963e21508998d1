"""Magic-byte sniffing and the EXIF strings libvips attaches."""

import pytest

from assetflow.thumbnailer.exif import capture_time, entry_value
from assetflow.thumbnailer.formats import Sniffed, sniff


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", Sniffed("jpeg", True)),
        (b"\x89PNG\r\n\x1a\n\x00\x00", Sniffed("png", True)),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", Sniffed("webp", True)),
        (b"GIF89a\x01\x00", Sniffed("gif", True)),
        (b"II*\x00\x08\x00\x00\x00", Sniffed("tiff", True)),
        (b"MM\x00*\x00\x00\x00\x08", Sniffed("tiff", True)),
        (b"\x00\x00\x00\x1cftypavif\x00\x00", Sniffed("avif", True)),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", Sniffed("heic", True)),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", None),  # an MP4 video
        (b"BM6\x00\x00\x00", Sniffed("bmp", False)),
        (b'<?xml version="1.0"?><svg', Sniffed("svg", False)),
        (b"%PDF-1.7", Sniffed("pdf", False)),
        (b"hello world", None),
        (b"", None),
    ],
)
def test_sniff(head: bytes, expected: Sniffed | None) -> None:
    assert sniff(head) == expected


@pytest.mark.parametrize(
    ("rendered", "value"),
    [
        ("Canon (Canon, ASCII, 6 components, 6 bytes)", "Canon"),
        ("A (B) C (A (B) C, ASCII, 8 components, 8 bytes)", "A (B) C"),
        ("6 (Internal error (unknown value 6), Short, 1 components, 2 bytes)", "6"),
        (
            "2024:05:01 12:30:45 (2024:05:01 12:30:45, ASCII, 20 components, 20 bytes)",
            "2024:05:01 12:30:45",
        ),
        ("plain", "plain"),
    ],
)
def test_entry_value(rendered: str, value: str) -> None:
    assert entry_value(rendered) == value


@pytest.mark.parametrize(
    ("original", "offset", "expected"),
    [
        ("2024:05:01 12:30:45", None, "2024-05-01T12:30:45"),
        ("2024:05:01 12:30:45", "-05:00", "2024-05-01T12:30:45-05:00"),
        ("2024:05:01 12:30:45", "garbage", "2024-05-01T12:30:45"),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        (None, None, None),
    ],
)
def test_capture_time(original: str | None, offset: str | None, expected: str | None) -> None:
    assert capture_time(original, offset) == expected
