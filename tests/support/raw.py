"""DNG files written with tifffile: a Bayer mosaic LibRaw can develop, with or without a preview.

Real camera RAW samples cannot be downloaded here; a DNG is the one RAW format whose
layout is public, so these exercise LibRaw's real DNG path end to end.
"""

import io
from typing import Any, Literal

import numpy as np
import tifffile

Preview = Literal["jpeg", "bitmap"] | None
DNG_VERSION, DNG_BACKWARD_VERSION, UNIQUE_CAMERA_MODEL = 50706, 50707, 50708
CFA_REPEAT_PATTERN_DIM, CFA_PATTERN, CFA_PLANE_COLOR, CFA_LAYOUT = 33421, 33422, 50710, 50711
BLACK_LEVEL, WHITE_LEVEL, COLOR_MATRIX_1, AS_SHOT_NEUTRAL, ILLUMINANT_1 = (
    50714,
    50717,
    50721,
    50728,
    50778,
)
WHITE = 4095  # 12-bit sensor
# XYZ (D65) to linear sRGB, the colour matrix of a camera whose sensor sees sRGB primaries.
_XYZ_TO_SRGB = ((3.2406, -1.5372, -0.4986), (-0.9689, 1.8758, 0.0415), (0.0557, -0.2040, 1.0570))


def scene(width: int, height: int) -> np.ndarray:
    """Linear 12-bit RGB: red grows to the right, green downwards, a constant blue."""
    y, x = np.mgrid[0:height, 0:width]
    red = x * (WHITE / max(1, width - 1))
    green = y * (WHITE / max(1, height - 1))
    blue = np.full(x.shape, WHITE * 0.35)
    return np.dstack([red, green, blue]).astype(np.uint16)


def mosaic(rgb: np.ndarray) -> np.ndarray:
    """The RGGB Bayer samples a sensor records of ``rgb``."""
    cfa = np.empty(rgb.shape[:2], np.uint16)
    cfa[0::2, 0::2] = rgb[0::2, 0::2, 0]
    cfa[0::2, 1::2] = rgb[0::2, 1::2, 1]
    cfa[1::2, 0::2] = rgb[1::2, 0::2, 1]
    cfa[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return cfa


def dng(
    width: int = 640,
    height: int = 480,
    *,
    preview: Preview = "jpeg",
    preview_scale: int = 2,
    orientation: int = 1,
    make: str = "Assetflow",
    model: str = "Test Camera",
    taken: str = "2024:05:06 07:08:09",
) -> bytes:
    """A DNG 1.4 file: IFD0 is the preview (if any), its SubIFD the raw CFA data."""
    rgb = scene(width, height)
    matrix = [part for row in _XYZ_TO_SRGB for v in row for part in (round(v * 10_000), 10_000)]
    camera: list[tuple[Any, ...]] = [
        (271, "s", 0, make, True),
        (272, "s", 0, model, True),
        (274, "H", 1, orientation, True),
        (306, "s", 0, taken, True),
        (DNG_VERSION, "B", 4, (1, 4, 0, 0), True),
        (DNG_BACKWARD_VERSION, "B", 4, (1, 1, 0, 0), True),
        (UNIQUE_CAMERA_MODEL, "s", 0, f"{make} {model}", True),
        (COLOR_MATRIX_1, "2i", 9, tuple(matrix), True),
        (AS_SHOT_NEUTRAL, "2I", 3, (1, 1, 1, 1, 1, 1), True),
        (ILLUMINANT_1, "H", 1, 21, True),  # D65
    ]
    sensor: list[tuple[Any, ...]] = [
        (CFA_REPEAT_PATTERN_DIM, "H", 2, (2, 2), True),
        (CFA_PATTERN, "B", 4, (0, 1, 1, 2), True),  # R G / G B
        (CFA_PLANE_COLOR, "B", 3, (0, 1, 2), True),
        (CFA_LAYOUT, "H", 1, 1, True),
        (BLACK_LEVEL, "H", 1, 0, True),
        (WHITE_LEVEL, "H", 1, WHITE, True),
    ]
    cfa_photometric = 32803
    buffer = io.BytesIO()  # seekable: tifffile writes offsets back
    with tifffile.TiffWriter(buffer) as tif:
        if preview is None:
            tif.write(
                mosaic(rgb),
                photometric=cfa_photometric,
                subfiletype=0,
                extratags=camera + sensor,
                metadata=None,
            )
        else:
            small = (rgb[::preview_scale, ::preview_scale] >> 4).astype(np.uint8)
            tif.write(
                small,
                photometric="rgb",
                compression="jpeg" if preview == "jpeg" else None,
                rowsperstrip=small.shape[0],  # one JPEG, as DNG converters write it
                subfiletype=1,  # a reduced-resolution copy
                subifds=1,
                extratags=camera,
                metadata=None,
            )
            tif.write(
                mosaic(rgb),
                photometric=cfa_photometric,
                subfiletype=0,
                extratags=sensor,
                metadata=None,
            )
    return buffer.getvalue()
