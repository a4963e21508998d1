"""ThumbHash encoder benchmark: ours against the PyPI implementations, on our own renders.

The inputs are exactly what the thumbnailer hands its encoder: photo-like JPEGs and PNGs
(with and without alpha, in the aspect ratios people upload) go through
``assetflow.thumbnailer.rendering.render``, and the RGBA buffer it passes to
``thumbhash_base64`` (at most 100x100, after the 256 px thumb) is captured.  Every
implementation then encodes the same buffers, interleaved round by round, warm (caches
filled, as in a running service).  Reported: the median microseconds per hash, the ratio to
ours, and whether each library's bytes equal ours; where they differ, both hashes are decoded
with one decoder and the placeholders compared.  The JS reference vectors of
``tests/unit/test_thumbhash.py`` (npm ``thumbhash`` 0.1.1, run with node) are checked too.

Libraries come from the environment (``thumbhash-rs`` is a dev dependency), or from a
``pip install --target DIR NAME`` directory given as ``--lib NAME=DIR``: several of them
install a top-level module called ``thumbhash``, so they cannot share one environment.

    .venv/bin/python bench/thumbhash_bench.py
    .venv/bin/python bench/thumbhash_bench.py --lib thumbhash=/tmp/th/thumbhash ...
"""

import argparse
import base64
import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyvips

from assetflow.thumbnailer import rendering
from assetflow.thumbnailer.rendering import Rendered, RenderOptions, render
from assetflow.thumbnailer.thumbhash import rgba_to_thumbhash, thumbhash_base64
from tests.support import images
from tests.unit.test_thumbhash import EXPECTED, INPUTS, image  # before any library's `thumbhash`

Encoder = Callable[[int, int, bytes], bytes]


@dataclass(frozen=True)
class Library:
    """How to reach one PyPI implementation's encoder (and decoder, if it has one)."""

    module: str
    encode: str
    decode: str | None
    note: str
    array: bool = False  # wants a numpy array or a list, not bytes


# Distribution name -> its module and functions.  Every encoder is called with bytes.
LIBRARIES = {
    "thumbhash-rs": Library(
        "thumbhash", "rgba_to_thumb_hash", "thumb_hash_to_rgba", "Rust, the thumbhash crate"
    ),
    "fast-thumbhash": Library(
        "fast_thumbhash",
        "rgba_to_thumb_hash",
        "thumb_hash_to_rgba",
        "Rust, thumbhash crate (older fork)",
    ),
    "fast-thumbhash-rs": Library(
        "thumbhash", "rgba_to_thumb_hash", "thumb_hash_to_rgba", "Rust, fast-thumbhash crate"
    ),
    "thumbleweed": Library(
        "thumbleweed._core", "thumbhash_encode", "thumbhash_decode", "Rust, own port"
    ),
    "thash": Library("thash", "rgba_to_thumb_hash", None, "numpy float32 port", array=True),
    "thumbhash": Library("thumbhash", "rgba_to_thumb_hash", None, "pure Python port"),
    "thumbhash-python": Library("thumbhash.encode", "rgba_to_thumbhash", None, "pure Python port"),
}
DEFAULT_LIBS = ["thumbhash-rs"]


def photo_like(width: int, height: int, seed: int, *, alpha: bool = False) -> pyvips.Image:
    """Smooth gradients plus seeded sensor-like noise, optionally with a soft alpha edge."""
    xyz = pyvips.Image.xyz(width, height)
    base = (xyz[0] * (200.0 / width) + xyz[1] * (55.0 / height) + seed * 7) % 256
    bands = [base, (base * 0.7 + 40) % 256, (255 - base) % 256]
    noise = pyvips.Image.gaussnoise(width, height, sigma=18, mean=0, seed=seed)
    red, green, blue = [(band + noise).cast("uchar") for band in bands]
    image = red.bandjoin([green, blue])
    if alpha:  # an off-centre cutout: opaque disc, soft edge, transparent around it
        dx, dy = xyz[0] - width * 0.45, xyz[1] - height * 0.55
        edge = (min(width, height) * 0.4 - (dx * dx + dy * dy) ** 0.5) * (255.0 / 30) + 128
        edge = (edge < 0).ifthenelse(0, (edge > 255).ifthenelse(255, edge))
        image = image.bandjoin(edge.cast("uchar"))
    return image.copy(interpretation="srgb")


def sources() -> dict[str, bytes]:
    """Originals in the shapes people upload: 3:2, 4:3, 2:3, square, panorama, alpha PNGs."""
    return {
        "jpeg 3:2": bytes(photo_like(1536, 1024, 1).jpegsave_buffer(Q=90)),
        "jpeg 4:3": bytes(photo_like(1200, 900, 2).jpegsave_buffer(Q=90)),
        "jpeg 2:3 portrait": bytes(photo_like(800, 1200, 3).jpegsave_buffer(Q=90)),
        "jpeg 1:1": bytes(photo_like(1000, 1000, 4).jpegsave_buffer(Q=90)),
        "jpeg 3:1 panorama": bytes(photo_like(2400, 800, 5).jpegsave_buffer(Q=90)),
        "jpeg gradient": images.jpeg(1600, 1200),
        "png cutout": bytes(photo_like(1200, 800, 6, alpha=True).pngsave_buffer()),
        "png half transparent": images.png(900, 900, alpha=True),
    }


def captured_inputs() -> dict[str, tuple[int, int, bytes]]:
    """The (width, height, RGBA) that rendering hands its ThumbHash encoder, per source."""
    seen: list[tuple[int, int, bytes]] = []

    def capture(width: int, height: int, rgba: bytes) -> str:
        seen.append((width, height, bytes(rgba)))
        return thumbhash_base64(width, height, rgba)

    inputs = {}
    with mock.patch.object(rendering, "thumbhash_base64", capture):
        for name, data in sources().items():
            assert isinstance(render(data, RenderOptions()), Rendered), name
            inputs[name] = seen.pop()
    return inputs


def load(name: str, target: str | None) -> tuple[ModuleType, str]:
    """Import one library (from a --target directory if given) and return it and its version."""
    spec = LIBRARIES[name]
    top = spec.module.split(".")[0]
    for loaded in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
        del sys.modules[loaded]  # another distribution may have brought its own `thumbhash`
    if target is not None:
        sys.path.insert(0, target)
    try:
        module = importlib.import_module(spec.module)
        dists = importlib.metadata.distributions(name=name, path=[target] if target else sys.path)
        version = next(iter(dists)).version
    except (ImportError, StopIteration) as error:
        where = f"in {target}" if target else "in this environment"
        sys.exit(
            f"{name} is not installed {where} ({error!r}): `uv sync` installs the dev group "
            f"(thumbhash-rs); for another one, `uv pip install --target DIR {name}` "
            f"and pass --lib {name}=DIR"
        )
    finally:
        if target is not None:
            sys.path.remove(target)
    return module, version


def library_encoder(function: Callable[..., Any], *, array: bool) -> Encoder:
    """A library's encoder called like ours: bytes in, hash bytes out (some return a list)."""

    def encode(width: int, height: int, rgba: bytes) -> bytes:
        pixels = np.frombuffer(rgba, np.uint8) if array else rgba
        return bytes(function(width, height, pixels))

    return encode


def time_calls(encode: Encoder, args: tuple[int, int, bytes], rounds: int) -> list[float]:
    """Microseconds of `rounds` single calls."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter_ns()
        encode(*args)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def machine() -> dict[str, str]:
    """CPU, cores, Python and numpy with its BLAS, for the notes."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "python": platform.python_version(),
        "numpy": f"{np.__version__} ({blas.get('name')} {blas.get('version')})",
        "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lib",
        action="append",
        default=[],
        metavar="NAME[=DIR]",
        help=f"a library to compare (default {DEFAULT_LIBS}); one of {sorted(LIBRARIES)}",
    )
    parser.add_argument("--budget", type=float, default=0.4, help="seconds per input per library")
    parser.add_argument("--max-rounds", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    requested = [entry.partition("=")[::2] for entry in args.lib] or [(n, "") for n in DEFAULT_LIBS]
    for name, _ in requested:
        if name not in LIBRARIES:
            sys.exit(f"unknown library {name!r}; known: {sorted(LIBRARIES)}")

    info = machine()
    print("# thumbhash bench: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    inputs = captured_inputs()

    encoders: dict[str, Encoder] = {"ours": rgba_to_thumbhash}
    decoders: dict[str, Callable[[bytes], tuple[int, int, bytes]]] = {}
    versions = {"ours": "assetflow"}
    for name, target in requested:
        spec = LIBRARIES[name]
        module, version = load(name, target or None)
        encoders[name] = library_encoder(getattr(module, spec.encode), array=spec.array)
        if spec.decode:
            decoders[name] = getattr(module, spec.decode)
        versions[name] = f"{version} ({spec.note})"

    # Correctness first: against ours on the renders, and against the JS reference vectors.
    expected = {n: (*INPUTS[n][:2], image(*INPUTS[n])) for n in INPUTS}
    # One decoder for every comparison: the official crate's if it is loaded.
    decode = decoders.get("thumbhash-rs") or next(iter(decoders.values()), None)
    checks: dict[str, dict[str, str]] = {}
    encodable: dict[str, list[str]] = {}  # the renders each one can encode at all
    for name, encode in encoders.items():
        same, js, worst, failed = 0, 0, 0, []
        for case, (width, height, rgba) in inputs.items():
            ours = rgba_to_thumbhash(width, height, rgba)
            try:
                theirs = encode(width, height, rgba)
            except Exception as error:  # the pure Python `thumbhash` 0.1.2 fails on alpha
                failed.append(f"{case}: {type(error).__name__}")
                continue
            if ours == theirs:
                same += 1
            elif decode is not None:
                a, b = (
                    np.frombuffer(bytes(decode(h)[2]), np.uint8).astype(int) for h in (ours, theirs)
                )
                worst = max(worst, int(np.abs(a - b).max()) if a.shape == b.shape else 255)
        for case, (width, height, rgba) in expected.items():
            with contextlib.suppress(Exception):  # counted as a mismatch
                js += base64.b64encode(encode(width, height, rgba)).decode() == EXPECTED[case]
        encodable[name] = [c for c in inputs if not any(f.startswith(c + ":") for f in failed)]
        checks[name] = {
            "equal to ours": f"{same}/{len(inputs)}",
            "JS vectors": f"{js}/{len(expected)}",
            "decoded max diff": "-" if same + len(failed) == len(inputs) else f"{worst}/255",
            "failed": "; ".join(failed) or "-",
        }

    # Rounds per library from one call on the largest input, the same for every input.
    rounds = {}
    for name, encode in encoders.items():
        probe = inputs[max(encodable[name], key=lambda c: inputs[c][0] * inputs[c][1])]
        for _ in range(3):
            encode(*probe)  # warm: cos tables, lazy imports
        first = min(time_calls(encode, probe, 3)) / 1e6
        rounds[name] = max(5, min(args.max_rounds, int(args.budget / first)))
    samples: dict[str, dict[str, list[float]]] = {n: {} for n in encoders}
    for case, encode_args in inputs.items():
        active = {n: e for n, e in encoders.items() if case in encodable[n]}
        for encode in active.values():
            encode(*encode_args)  # this shape's caches
        done = dict.fromkeys(active, 0)
        while any(done[n] < rounds[n] for n in active):
            for name, encode in active.items():  # interleaved, so drift hits all alike
                if done[name] < rounds[name]:
                    samples[name].setdefault(case, []).extend(time_calls(encode, encode_args, 5))
                    done[name] += 5

    names = list(encoders)
    header = ["input", "WxH"] + [f"{n} µs" for n in names]
    rows = []
    for case, (width, height, rgba) in inputs.items():
        alpha = "" if rgba[3::4] == b"\xff" * (width * height) else " alpha"
        medians = [
            f"{statistics.median(samples[n][case]):,.0f}" if case in samples[n] else "fails"
            for n in names
        ]
        rows.append([case, f"{width}x{height}{alpha}", *medians])
    # Every library against ours on the renders both can encode, so a failure skews nothing.
    overall = {n: statistics.median([s for c in samples[n] for s in samples[n][c]]) for n in names}
    ratio = {
        n: statistics.median([s for c in samples[n] for s in samples[n][c]])
        / statistics.median([s for c in samples[n] for s in samples["ours"][c]])
        for n in names
    }
    rows.append(["all renders", "median", *[f"{overall[n]:,.0f}" for n in names]])
    rows.append(["ratio to ours", "", *[f"{ratio[n]:.2f}x" for n in names]])
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).rjust(w) for cell, w in zip(row, widths, strict=True)))
    print()
    for name in names:
        check = ", ".join(f"{k} {v}" for k, v in checks[name].items())
        print(f"{name}: {versions[name]}; {check}; {rounds[name]} rounds/input")

    if args.json:
        results = {
            "bench": "thumbhash",
            "date": time.strftime("%Y-%m-%d"),
            "machine": info,
            "versions": versions,
            "median_us": overall,
            "ratio_to_ours": ratio,
            "per_input_median_us": {
                n: {c: statistics.median(v) for c, v in samples[n].items()} for n in names
            },
            "checks": checks,
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
