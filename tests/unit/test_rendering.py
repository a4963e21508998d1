"""Decode-once rendering: sizes, orientation, alpha, formats and every kind of bad input."""

from pathlib import Path

import pytest
import pyvips

from assetflow.thumbnailer import rendering
from assetflow.thumbnailer.rendering import Refused, Rendered, RenderOptions, render
from tests.support import images

OPTIONS = RenderOptions()


def rendered(data: bytes | Path, options: RenderOptions = OPTIONS) -> Rendered:
    result = render(data, options)
    assert isinstance(result, Rendered), result
    return result


def decoded(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


@pytest.mark.parametrize(
    ("size", "thumb", "preview"),
    [
        ((3000, 2000), (256, 171), (1280, 853)),  # landscape
        ((2000, 3000), (171, 256), (853, 1280)),  # portrait
        ((1500, 1500), (256, 256), (1280, 1280)),  # square
        ((200, 100), (200, 100), (200, 100)),  # small: never upscaled
    ],
)
def test_sizes_keep_the_aspect_ratio_within_the_long_edge(
    size: tuple[int, int], thumb: tuple[int, int], preview: tuple[int, int]
) -> None:
    result = rendered(images.jpeg(*size))
    assert (result.width, result.height) == size
    assert (result.thumb.width, result.thumb.height) == thumb
    assert (result.preview.width, result.preview.height) == preview
    thumb_image, preview_image = decoded(result.thumb.data), decoded(result.preview.data)
    assert (thumb_image.width, thumb_image.height) == thumb
    assert thumb_image.get("vips-loader") == "webpload_buffer"
    assert (preview_image.width, preview_image.height) == preview
    assert preview_image.get("vips-loader") == "jpegload_buffer"
    assert result.thumb.content_type == "image/webp"
    assert result.preview.content_type == "image/jpeg"


def test_exif_orientation_6_gives_a_portrait_result_with_swapped_dimensions() -> None:
    data = images.jpeg(
        600,
        400,
        orientation=6,
        exif={
            "exif-ifd0-Make": "Canon",
            "exif-ifd0-Model": "Canon EOS R5",
            "exif-ifd2-DateTimeOriginal": "2024:05:01 12:30:45",
        },
    )
    result = rendered(data)
    assert (result.width, result.height) == (400, 600)
    assert (result.thumb.width, result.thumb.height) == (171, 256)
    assert (result.preview.width, result.preview.height) == (400, 600)
    assert result.exif.orientation == 6
    assert result.exif.make == "Canon"
    assert result.exif.model == "Canon EOS R5"
    assert result.exif.captured_at == "2024-05-01T12:30:45"
    # Renditions are stored upright and without EXIF, so no viewer rotates them again.
    thumb = decoded(result.thumb.data)
    assert "orientation" not in thumb.get_fields()
    assert "exif-data" not in decoded(result.preview.data).get_fields()


def test_capture_time_keeps_the_recorded_offset() -> None:
    data = images.jpeg(
        64,
        64,
        exif={
            "exif-ifd2-DateTimeOriginal": "2023:12:31 23:59:58",
            "exif-ifd2-OffsetTimeOriginal": "+09:00",
        },
    )
    assert rendered(data).exif.captured_at == "2023-12-31T23:59:58+09:00"


def test_image_without_exif_has_an_empty_summary() -> None:
    exif = rendered(images.png(50, 40)).exif
    assert (exif.captured_at, exif.make, exif.model, exif.orientation) == (None, None, None, None)


def test_png_with_alpha_keeps_transparency_in_the_thumb_and_flattens_the_preview() -> None:
    result = rendered(images.png(300, 200, alpha=True))
    assert result.source_format == "png"
    thumb = decoded(result.thumb.data)
    assert (thumb.width, thumb.height, thumb.bands) == (256, 171, 4)
    assert thumb.extract_band(3).min() == 0  # some pixels stay transparent
    assert decoded(result.preview.data).bands == 3
    assert 20 <= len(result.thumbhash) <= 60


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: images.webp(320, 240), "webp"),
        (lambda: images.tiff(320, 240), "tiff"),
        (lambda: images.avif(320, 240), "avif"),
        (lambda: images.png(320, 240, sixteen_bit=True), "png"),
        (lambda: images.grey_jpeg(320, 240), "jpeg"),
    ],
)
def test_other_formats_render_to_8_bit_srgb(make: object, name: str) -> None:
    result = rendered(make())  # type: ignore[operator]
    assert result.source_format == name
    assert (result.width, result.height) == (320, 240)
    thumb = decoded(result.thumb.data)
    assert (thumb.width, thumb.height, thumb.format) == (256, 192, "uchar")


def test_animated_gif_uses_its_first_frame() -> None:
    result = rendered(images.animated_gif(120, 80, frames=3))
    assert (result.source_format, result.width, result.height) == ("gif", 120, 80)
    assert (result.preview.width, result.preview.height) == (120, 80)


def test_text_file_named_jpg_is_rejected() -> None:
    result = render(b"name,label\ncat.jpg,cat\n", OPTIONS)
    assert result == Refused("rejected", "not an image: it looks like text")


def test_empty_file_is_rejected() -> None:
    assert render(b"", OPTIONS) == Refused("rejected", "not an image: the file is empty")


def test_recognised_but_unsupported_format_is_rejected() -> None:
    result = render(b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', OPTIONS)
    assert result == Refused("rejected", "unsupported image type: svg")


def test_truncated_jpeg_gives_failed_or_a_valid_thumbnail_never_an_exception() -> None:
    data = images.jpeg(800, 600)
    for cut in (len(data) // 2, len(data) // 10, 200, 20, 4):
        result = render(data[:cut], OPTIONS)
        if isinstance(result, Rendered):
            assert (result.thumb.width, result.thumb.height) == (256, 192)
        else:
            assert result.status == "failed", result
            assert result.reason.startswith("cannot "), result


def test_garbage_after_a_jpeg_signature_fails_with_the_decoder_message() -> None:
    result = render(b"\xff\xd8\xff" + bytes(range(256)) * 8, OPTIONS)
    assert isinstance(result, Refused) and result.status == "failed"
    assert "jpeg" in result.reason


def test_header_claiming_20000_by_20000_is_rejected_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forged = images.with_jpeg_size(images.jpeg(64, 48), 20_000, 20_000)

    def no_decode(*args: object) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(rendering, "_derive", no_decode)
    result = render(forged, OPTIONS)
    assert result == Refused(
        "rejected", "20000x20000 px is 400.0 megapixels, over the limit of 100"
    )


def test_pixel_limit_is_configurable() -> None:
    small_limit = RenderOptions(max_pixels=1_000_000)
    result = render(images.jpeg(1200, 1000), small_limit)
    assert result == Refused("rejected", "1200x1000 px is 1.2 megapixels, over the limit of 1")
    assert isinstance(render(images.jpeg(1000, 1000), small_limit), Rendered)


def test_spooled_file_renders_like_bytes(tmp_path: Path) -> None:
    data = images.jpeg(900, 700, orientation=8)
    path = tmp_path / "original"
    path.write_bytes(data)
    from_file, from_bytes = rendered(path), rendered(data)
    assert (from_file.width, from_file.height) == (700, 900)
    assert from_file.thumb == from_bytes.thumb
    assert from_file.thumbhash == from_bytes.thumbhash


def test_rendering_is_deterministic() -> None:
    data = images.png(500, 300, alpha=True)
    assert rendered(data) == rendered(data)
