"""RAW rendering benchmark: the embedded-preview fast path against a forced demosaic.

For each file (a real Sony ARW from a registry package, and synthetic DNGs of 6 and 24
megapixels with a half-size embedded JPEG), the same full rendering (thumb, preview,
thumbhash, EXIF) runs interleaved both ways: ``render`` as the thumbnailer calls it, and
with the embedded preview refused so LibRaw demosaics. Reported: median ms and the ratio.
"""

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assetflow.thumbnailer import rawfiles
from assetflow.thumbnailer.rendering import Rendered, RenderOptions, render
from tests.support import raw
from tests.support.raw_samples import sample_path


def timed(run: Callable[[], object]) -> float:
    """Milliseconds for one call."""
    began = time.perf_counter()
    result = run()
    assert isinstance(result, Rendered), result
    return (time.perf_counter() - began) * 1000


def main() -> None:
    """Render every file both ways, interleaved, and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    options = RenderOptions()
    files = {
        "sony ILCE-7RM3 ARW (18 MB, 5184x3464)": sample_path("sony.arw").read_bytes(),
        "synthetic DNG 3000x2000": raw.dng(3000, 2000, preview="jpeg"),
        "synthetic DNG 6000x4000": raw.dng(6000, 4000, preview="jpeg"),
    }
    results: dict[str, object] = {"bench": "raw", "machine": platform.machine()}
    for label, data in files.items():
        embedded, demosaic = [], []
        for _ in range(args.repeat):
            embedded.append(timed(lambda data=data: render(data, options)))  # type: ignore[misc]
            with mock.patch.object(rawfiles, "_embedded", return_value=None):
                demosaic.append(timed(lambda data=data: render(data, options)))  # type: ignore[misc]
        fast, slow = statistics.median(embedded), statistics.median(demosaic)
        results[label] = {
            "embedded_ms": round(fast, 1),
            "demosaic_ms": round(slow, 1),
            "ratio": round(slow / fast, 1),
        }
        print(f"{label:40s} embedded {fast:7.1f} ms  demosaic {slow:7.1f} ms  x{slow / fast:.1f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
