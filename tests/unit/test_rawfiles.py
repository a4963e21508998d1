"""Camera RAW files: magic bytes, the first TIFF directory, LibRaw's three routes on DNGs."""

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import pyvips
import tifffile

from assetflow.thumbnailer.formats import SNIFF_BYTES, Sniffed, sniff, tiff_ifd0
from assetflow.thumbnailer.observability import RAW_DECODES
from assetflow.thumbnailer.rendering import Refused, Rendered, RenderOptions, render
from tests.support import raw

OPTIONS = RenderOptions()


def tiff_with_make(make: str) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.zeros((4, 4), np.uint8), extratags=[(271, "s", 0, make, True)])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("head", "name"),
    [
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "cr2"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01", "cr3"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "raf"),
        (b"IIRO\x08\x00\x00\x00", "orf"),
        (b"IIRS\x08\x00\x00\x00", "orf"),
        (b"MMOR\x00\x00\x00\x08", "orf"),
        (b"IIU\x00\x18\x00\x00\x00", "rw2"),
    ],
)
def test_raw_magic_bytes(head: bytes, name: str) -> None:
    sniffed = sniff(head)
    assert sniffed == Sniffed(name, True)
    assert sniffed is not None and sniffed.raw


@pytest.mark.parametrize(
    ("make", "name"),
    [("NIKON CORPORATION", "nef"), ("SONY", "arw"), ("Canon", "tiff"), ("", "tiff")],
)
def test_tiff_based_raw_is_told_apart_by_the_camera_in_its_first_directory(
    make: str, name: str
) -> None:
    data = tiff_with_make(make) if make else tiff_with_make("x")[:8]
    assert sniff(data[:SNIFF_BYTES]) == Sniffed(name, True)


def test_dng_is_recognised_by_its_version_tag_and_plain_tiff_is_not_raw() -> None:
    sniffed = sniff(raw.dng()[:SNIFF_BYTES])
    assert sniffed == Sniffed("dng", True) and sniffed.raw
    plain = sniff(tiff_with_make("Canon"))
    assert plain is not None and not plain.raw


def test_first_directory_fields() -> None:
    tags = tiff_ifd0(raw.dng(orientation=8, make="Nikon", model="Z 9")[:SNIFF_BYTES])
    assert tags[271] == "Nikon"
    assert tags[272] == "Z 9"
    assert tags[274] == 8
    assert tags[306] == "2024:05:06 07:08:09"
    assert tags[50706] == 1


def test_first_directory_reader_never_raises_on_truncated_or_hostile_headers() -> None:
    head = raw.dng()[:SNIFF_BYTES]
    for cut in range(0, 400):
        tiff_ifd0(head[:cut])
    # An entry count and offsets pointing far past the data.
    hostile = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF)
    hostile += struct.pack("<HHII", 271, 2, 1_000_000, 0xFFFFFFF0) * 4
    assert tiff_ifd0(hostile) == {}
    assert tiff_ifd0(b"II*\x00" + struct.pack("<I", 0xFFFFFFFF)) == {}


def raw_route(format_: str, route: str) -> float:
    for metric in RAW_DECODES.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.labels == {
                "format": format_,
                "route": route,
            }:
                return sample.value
    return 0.0


@pytest.mark.parametrize(
    ("preview", "route"),
    [("jpeg", "embedded_jpeg"), ("bitmap", "embedded_bitmap"), (None, "demosaic")],
)
def test_dng_renders_through_the_route_its_contents_allow(preview: raw.Preview, route: str) -> None:
    before = raw_route("dng", route)
    result = render(raw.dng(800, 600, preview=preview, orientation=6), OPTIONS)
    assert isinstance(result, Rendered), result
    assert raw_route("dng", route) == before + 1
    assert result.source_format == "dng"
    # Orientation 6: the sensor's 800x600 is shown as 600x800, and so are the renditions.
    assert (result.width, result.height) == (600, 800)
    assert result.thumb.height == 256 and result.thumb.width == 192
    preview_image = pyvips.Image.new_from_buffer(result.preview.data, "")
    assert preview_image.height > preview_image.width
    assert result.exif.make == "Assetflow"
    assert result.exif.model == "Test Camera"
    assert result.exif.orientation == 6
    assert result.exif.captured_at == "2024-05-06T07:08:09"
    assert 20 <= len(result.thumbhash) <= 60


def test_every_route_shows_the_same_picture() -> None:
    """The scene's red grows to the right and green downwards, whichever route decoded it."""
    for preview in ("jpeg", "bitmap", None):
        result = render(raw.dng(512, 384, preview=preview), OPTIONS)
        assert isinstance(result, Rendered), result
        image = pyvips.Image.new_from_buffer(result.preview.data, "")
        red, green = image.extract_band(0), image.extract_band(1)
        left, right = (
            red.crop(0, 0, 16, image.height),
            red.crop(image.width - 16, 0, 16, image.height),
        )
        top, bottom = (
            green.crop(0, 0, image.width, 16),
            green.crop(0, image.height - 16, image.width, 16),
        )
        assert right.avg() > left.avg() + 60, preview
        assert bottom.avg() > top.avg() + 60, preview


def test_a_preview_smaller_than_the_thumbnail_is_not_used() -> None:
    before = raw_route("dng", "demosaic")
    # 640x480 sensor, preview a tenth of that: 64 px, below the 256 px thumbnail.
    result = render(raw.dng(640, 480, preview="jpeg", preview_scale=10), OPTIONS)
    assert isinstance(result, Rendered), result
    assert raw_route("dng", "demosaic") == before + 1
    assert result.thumb.width == 256


def test_raw_pixel_limit_is_checked_before_any_pixels_are_decoded() -> None:
    result = render(raw.dng(640, 480), RenderOptions(max_pixels=100_000))
    assert result == Refused("rejected", "640x480 px is 0.3 megapixels, over the limit of 0.1")


def test_spooled_raw_renders_like_bytes(tmp_path: Path) -> None:
    data = raw.dng(400, 300, preview=None)
    path = tmp_path / "original"
    path.write_bytes(data)
    from_file, from_bytes = render(path, OPTIONS), render(data, OPTIONS)
    assert isinstance(from_file, Rendered) and from_file == from_bytes


def test_truncated_or_corrupt_raw_fails_with_a_reason_never_an_exception() -> None:
    data = raw.dng(400, 300, preview=None)
    for cut in (len(data) // 2, 2_000, 200, 12):
        result = render(data[:cut], OPTIONS)
        if isinstance(result, Refused):
            assert result.status in ("failed", "rejected"), result
            # Cut inside the header, the file no longer says which TIFF it is.
            assert result.reason.startswith(("cannot ", "unsupported image type: tiff")), result
    # A RAF signature with nothing after it.
    result = render(b"FUJIFILMCCD-RAW 0201FF383501" + bytes(100), OPTIONS)
    assert isinstance(result, Refused) and result.status == "failed"
    assert result.reason.startswith("cannot decode the raf file: ")
