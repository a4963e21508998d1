"""Real camera files from registry packages: recognised by magic bytes, rendered by LibRaw."""

from pathlib import Path

import pytest

from assetflow.thumbnailer.formats import SNIFF_BYTES, sniff
from assetflow.thumbnailer.rendering import Refused, Rendered, RenderOptions, render
from tests.support.raw_samples import SAMPLES, sample_path

OPTIONS = RenderOptions()


@pytest.fixture(scope="module")
def samples() -> dict[str, Path]:
    try:
        return {name: sample_path(name) for name in SAMPLES}
    except Exception as exc:  # the registries are reachable wherever our tests run
        pytest.fail(f"cannot fetch the RAW samples from their registries: {exc!r}")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_camera_file_is_recognised_by_its_magic_bytes(
    samples: dict[str, Path], name: str
) -> None:
    with samples[name].open("rb") as file:
        sniffed = sniff(file.read(SNIFF_BYTES))
    assert sniffed is not None and sniffed.raw
    assert sniffed.name == name.rsplit(".", 1)[1]


def test_sony_arw_renders_from_its_embedded_jpeg_with_the_camera_exif(
    samples: dict[str, Path],
) -> None:
    result = render(samples["sony.arw"], OPTIONS)
    assert isinstance(result, Rendered), result
    assert (result.source_format, result.width, result.height) == ("arw", 5184, 3464)
    assert (result.preview.width, result.preview.height) == (1280, 855)
    assert (result.exif.make, result.exif.model) == ("Sony", "ILCE-7RM3")
    assert result.exif.captured_at == "2018-07-11T01:18:47"


def test_nikon_nef_with_only_a_tiny_bitmap_thumbnail_is_demosaiced(
    samples: dict[str, Path],
) -> None:
    result = render(samples["nikon-d1.nef"], OPTIONS)
    assert isinstance(result, Rendered), result
    assert (result.source_format, result.width, result.height) == ("nef", 2012, 1324)
    # Half-size demosaic: 1006x662, never upscaled to the 1280 preview edge.
    assert (result.preview.width, result.preview.height) == (1006, 662)
    assert (result.exif.make, result.exif.model) == ("NIKON CORPORATION", "NIKON D1")


@pytest.mark.parametrize(
    "name", ["canon-350d.cr2", "canon-m50.cr3", "nikon-d70.nef", "fuji-s5pro.raf"]
)
def test_stripped_camera_files_fail_with_libraws_reason(
    samples: dict[str, Path], name: str
) -> None:
    result = render(samples[name], OPTIONS)
    assert isinstance(result, Refused), result
    assert result.status == "failed"
    assert result.reason.startswith(f"cannot decode the {name.rsplit('.', 1)[1]} file: ")
