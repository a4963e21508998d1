"""Camera RAW files through LibRaw (rawpy): the embedded preview when it is big enough,
a half-size demosaic only when it is not."""

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyvips
import rawpy

from assetflow.contracts.events import ExifSummary
from assetflow.thumbnailer.exif import capture_time, read_exif
from assetflow.thumbnailer.formats import DATE_TIME, MAKE, MODEL, ORIENTATION, tiff_ifd0

Route = Literal["embedded_jpeg", "embedded_bitmap", "demosaic"]
# LibRaw's flip codes as EXIF orientations (3 = 180°, 5 = 90° counter-clockwise, 6 = 90° clockwise).
_FLIP_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_TRANSPOSING_FLIPS = {5, 6}
# LibRaw reports a missing capture time as the epoch.
_NO_TIMESTAMP = datetime(1971, 1, 1)


@dataclass(frozen=True, slots=True)
class DecodedRaw:
    """An upright image to derive renditions from, with what the RAW file says about itself."""

    image: pyvips.Image
    exif: ExifSummary
    route: Route


def open_raw(source: bytes | Path) -> rawpy.RawPy:
    """Parse a RAW file's metadata (no pixels yet); raises ``rawpy.LibRawError``."""
    return rawpy.imread(str(source) if isinstance(source, Path) else io.BytesIO(source))


def displayed_size(raw: rawpy.RawPy) -> tuple[int, int]:
    """Width and height of the developed image, turned upright."""
    sizes = raw.sizes
    if sizes.flip in _TRANSPOSING_FLIPS:
        return sizes.height, sizes.width
    return sizes.width, sizes.height


def decode_raw(raw: rawpy.RawPy, head: bytes, *, min_edge: int, edge: int) -> DecodedRaw:
    """The embedded preview if its long side reaches ``min_edge``, else a demosaic.

    ``edge`` bounds the result: a full-size embedded JPEG is shrunk while it loads.
    """
    exif = header_exif(raw, head)
    embedded = _embedded(raw, exif, min_edge=min_edge, edge=edge)
    if embedded is not None and embedded.exif.captured_at:
        return embedded
    if embedded is not None:
        # Reading LibRaw's capture time unpacks the sensor data: only when nothing else had it.
        return DecodedRaw(embedded.image, _with_libraw_time(raw, embedded.exif), embedded.route)
    # Half size skips interpolation (each 2x2 Bayer cell becomes one pixel): four times
    # fewer pixels and far less work, still larger than any preview we make.
    rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)  # applies the flip
    return DecodedRaw(_from_array(rgb), _with_libraw_time(raw, exif), "demosaic")


def header_exif(raw: rawpy.RawPy, head: bytes) -> ExifSummary:
    """Camera, time and orientation from the first TIFF directory and LibRaw's header parse.

    Cheap: nothing here unpacks the sensor data.
    """
    tags = tiff_ifd0(head)
    recorded = tags.get(ORIENTATION)
    orientation = recorded if isinstance(recorded, int) and 1 <= recorded <= 8 else None
    return ExifSummary(
        captured_at=capture_time(_text(tags.get(DATE_TIME)), None),
        make=_text(tags.get(MAKE)),
        model=_text(tags.get(MODEL)),
        orientation=orientation or _FLIP_ORIENTATION.get(raw.sizes.flip),
    )


def _with_libraw_time(raw: rawpy.RawPy, exif: ExifSummary) -> ExifSummary:
    """``exif`` with LibRaw's capture time (it reads makernotes and CR3 boxes too)."""
    taken = raw.other.timestamp
    if taken <= _NO_TIMESTAMP:
        return exif
    return exif.model_copy(update={"captured_at": taken.isoformat(timespec="seconds")})


def _embedded(
    raw: rawpy.RawPy, exif: ExifSummary, *, min_edge: int, edge: int
) -> DecodedRaw | None:
    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    if thumb.format == rawpy.ThumbFormat.BITMAP:
        bitmap = np.asarray(thumb.data)
        if max(bitmap.shape[:2]) < min_edge:
            return None
        return DecodedRaw(_upright(_from_array(bitmap), exif.orientation), exif, "embedded_bitmap")
    data = bytes(thumb.data)
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        if max(header.width, header.height) < min_edge:
            return None
        own = read_exif(header)
        # Shrink-on-load; orientation is applied below, from whichever metadata recorded it.
        image = pyvips.Image.thumbnail_buffer(
            data, edge, height=edge, size="down", no_rotate=True
        ).copy_memory()
    except pyvips.Error:
        return None  # a damaged preview: the sensor data may still be fine
    merged = _merge(own, exif)
    return DecodedRaw(_upright(image, merged.orientation), merged, "embedded_jpeg")


def _merge(preferred: ExifSummary, fallback: ExifSummary) -> ExifSummary:
    """Each field from ``preferred`` when it has one, else from ``fallback``."""
    values = {
        name: getattr(preferred, name) or getattr(fallback, name)
        for name in ExifSummary.model_fields
    }
    return ExifSummary(**values)


def _upright(image: pyvips.Image, orientation: int | None) -> pyvips.Image:
    if not orientation or orientation == 1:
        return image
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image.autorot()


def _from_array(rgb: np.ndarray) -> pyvips.Image:
    return pyvips.Image.new_from_array(np.ascontiguousarray(rgb)).copy(interpretation="srgb")


def _text(value: str | int | None) -> str | None:
    return value if isinstance(value, str) and value else None
