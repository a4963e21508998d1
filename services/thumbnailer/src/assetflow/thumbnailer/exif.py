"""The EXIF subset the listing shows, read from the metadata libvips attaches on load."""

import re
from datetime import datetime
from typing import Protocol

from assetflow.contracts.events import ExifSummary

# libvips renders each EXIF entry as "<raw> (<formatted>, <type>, <n> components, <m> bytes)".
_ENTRY = re.compile(r"^(?P<body>.*), (?P<type>[A-Za-z ]+), \d+ components, \d+ bytes\)$", re.S)
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


class HasMetadata(Protocol):
    """The part of a ``pyvips.Image`` this module reads."""

    def get_fields(self) -> list[str]: ...

    def get(self, name: str) -> object: ...


def entry_value(rendered: str) -> str:
    """The raw value of one libvips EXIF entry string."""
    match = _ENTRY.match(rendered)
    if match is None:
        return rendered.strip()
    body = match["body"]  # "<raw> (<formatted>"
    # For text entries raw and formatted are equal, which finds the split even when the
    # value itself contains " (".
    half = (len(body) - 2) // 2
    if body[half : half + 2] == " (" and body[:half] == body[half + 2 :]:
        return body[:half].strip()
    return body.partition(" (")[0].strip()


def capture_time(original: str | None, offset: str | None) -> str | None:
    """EXIF ``DateTimeOriginal`` (+ ``OffsetTimeOriginal``) as ISO 8601, or None if invalid."""
    if not original:
        return None
    try:
        moment = datetime.strptime(original.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # "0000:00:00 00:00:00" and other placeholders cameras write
    text = moment.isoformat()
    if offset and _OFFSET.match(offset.strip()):
        text += offset.strip()
    return text


def read_exif(image: HasMetadata) -> ExifSummary:
    """Capture time, camera make/model and orientation, each None when absent."""
    fields = set(image.get_fields())

    def text(name: str) -> str | None:
        if name not in fields:
            return None
        value = entry_value(str(image.get(name)))
        return value or None

    # libvips reports orientation 1 for any image; only an EXIF tag means it was recorded.
    recorded = "exif-ifd0-Orientation" in fields and "orientation" in fields
    orientation = image.get("orientation") if recorded else None
    return ExifSummary(
        captured_at=capture_time(
            text("exif-ifd2-DateTimeOriginal"), text("exif-ifd2-OffsetTimeOriginal")
        ),
        make=text("exif-ifd0-Make"),
        model=text("exif-ifd0-Model"),
        orientation=orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else None,
    )
