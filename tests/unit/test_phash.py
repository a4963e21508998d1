"""The perceptual hash against PyPI imagehash's phash, on the same inputs."""

import io

import imagehash
import numpy as np
import pytest
import pyvips
from PIL import Image

from assetflow.readmodel.similarity import hamming
from assetflow.thumbnailer.phash import grey_of_rgb, phash_of_grey, phash_of_image
from assetflow.thumbnailer.rendering import Rendered, RenderOptions, render
from tests.support import images


@pytest.mark.parametrize("seed", range(40))
def test_the_dct_and_median_core_is_bit_identical_to_imagehash(seed: int) -> None:
    # imagehash leaves a 32x32 grey image as it is (convert and resize are copies), so both
    # hash exactly the same pixels here.
    rng = np.random.default_rng(seed)
    grey = (rng.random((32, 32)) * 255).astype(np.uint8)
    if seed % 2:  # smooth content, like a photo shrunk to 32x32
        grey = np.asarray(Image.fromarray(grey[:8, :8]).resize((32, 32), Image.BICUBIC))
    assert phash_of_grey(grey) == str(imagehash.phash(Image.fromarray(grey)))


def test_grey_is_pils_luma_to_the_bit() -> None:
    rgb = np.random.default_rng(7).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(rgb).convert("L"))
    assert np.array_equal(grey_of_rgb(rgb), expected)


@pytest.mark.parametrize("seed", range(8))
def test_whole_images_hash_like_imagehash_within_a_few_bits(seed: int) -> None:
    # PIL resamples the full image with Lanczos; we shrink the decoded thumb with libvips:
    # the pixels differ slightly, so a few bits may too (measured: 0-2 of 64).
    data = images.scene_jpeg(seed, 900, 600)
    ours = render(data, RenderOptions())
    assert isinstance(ours, Rendered)
    theirs = str(imagehash.phash(Image.open(io.BytesIO(data))))
    assert hamming(ours.phash, theirs) <= 4
    decoded = pyvips.Image.new_from_buffer(data, "")
    assert hamming(phash_of_image(decoded), theirs) <= 4


def test_a_reencoded_copy_is_near_and_another_picture_is_far() -> None:
    original = images.scene_jpeg(3, 1000, 750)
    smaller = pyvips.Image.new_from_buffer(original, "").resize(0.7)
    reencoded = bytes(smaller.jpegsave_buffer(Q=60))
    hashes = [render(data, RenderOptions()) for data in (original, reencoded)]
    other = render(images.scene_jpeg(4, 1000, 750), RenderOptions())
    assert all(isinstance(h, Rendered) for h in [*hashes, other])
    a, b = (h.phash for h in hashes if isinstance(h, Rendered))
    assert isinstance(other, Rendered)
    assert hamming(a, b) <= 6
    assert hamming(a, other.phash) > 10


def test_phash_is_16_hex_digits_and_rejects_a_wrong_size() -> None:
    value = phash_of_grey(np.zeros((32, 32), np.uint8))
    assert len(value) == 16 and int(value, 16) >= 0
    with pytest.raises(ValueError, match="32x32"):
        phash_of_grey(np.zeros((16, 16), np.uint8))
