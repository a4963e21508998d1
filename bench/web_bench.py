"""Web UI benchmark in a real Chromium: time to the first 50 thumbnails, bundle size, and
frames while scrolling 1,000 tiles, on a 1k- and a 10k-image dataset side by side.

Starts ingest, indexer, thumbnailer and an API (test lane, group prefix
``assetflow-bench-web``, database ``assetflow_bench_web``, API on 18120) and a gateway on
18180 serving ``web/dist``; seeds the datasets once (kept between runs). Needs the local
stack and ``make web``.

- first thumbs: from navigation start to the frame in which 50 tiles' WebP thumbs have
  loaded and decoded (a requestAnimationFrame probe in the page), fresh browser context each
  time (cold HTTP cache), 1920x1200.
- revisit: the same, a second time in the same browser context (the HTTP cache holds the first
  visit's thumbs), with the API's rendition URLs stable for an hour (the default) and, for
  comparison in the same run, re-signed every second (``API_RENDITION_URL_PERIOD_S=0``).
- scrolling: the grid scrolled by 1,000 tiles at a steady 2,400 px/s while the next pages
  load by cursor; frame intervals from requestAnimationFrame; 3 runs, the median kept.
  Beside it, in the same run, the same thumbs as a static page (plain HTML, the same grid
  geometry, no script): what this machine's headless, GPU-less Chromium can do at all, so the
  ratio is what the app costs.
"""

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))  # devstack

import httpx
from playwright.sync_api import Page, sync_playwright

from devstack import browser as devstack_browser
from tests.support import images
from tests.support.stack import (
    BUCKET,
    GatewayProcess,
    ServiceProcess,
    prepare_test_lane,
    running,
    s3_client,
    skip_history,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
GROUP = "assetflow-bench-web"
DB = "assetflow_bench_web"
GATEWAY_PORT = 18180
VIEWPORT = {"width": 1920, "height": 1200}
THUMBS = 50

# Runs before the app: notes the frame in which THUMBS thumbs are decoded.
FIRST_THUMBS_PROBE = """
(() => {
  const want = WANT;
  const tick = () => {
    const done = [...document.querySelectorAll('[role=gridcell] img.thumb')]
      .filter(img => img.complete && img.naturalWidth > 0).length;
    if (done >= want) { window.__firstThumbs = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
""".replace("WANT", str(THUMBS))

# Scrolls the grid by `distance` px at `speed` px/s, one step per frame; returns frame gaps.
SCROLL = """
async ([distance, speed]) => {
  const grid = document.querySelector('[role=grid]');
  const gaps = [];
  let last = performance.now();
  const start = last;
  const top = grid.scrollTop;
  await new Promise(done => {
    const step = now => {
      gaps.push(now - last);
      last = now;
      const travelled = Math.min(distance, (now - start) / 1000 * speed);
      grid.scrollTop = top + travelled;
      if (travelled >= distance) done(); else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  const tiles = document.querySelectorAll('[role=gridcell]').length;
  return {gaps, reached: grid.scrollTop - top, tiles};
}
"""


def seed(s3: Any, api: ServiceProcess, dataset_id: str, n: int) -> None:
    """Put ``n`` small JPEGs unless the dataset already has them all ready."""
    url = f"{api.base_url}/v1/datasets/{dataset_id}/stats"

    def ready() -> int:
        return int(httpx.get(url, timeout=10).json().get("statuses", {}).get("ready", 0))

    if ready() >= n:
        return
    bodies = [images.jpeg(160 + (i % 4) * 40, 120, quality=70) for i in range(8)]

    def put(i: int) -> None:
        key = f"{dataset_id}/images/f{i % 10}/img{i:06d}.jpg"
        s3.put_object(Bucket=BUCKET, Key=key, Body=bodies[i % 8], ContentType="image/jpeg")

    print(f"[web bench] seeding {n} images into {dataset_id}", flush=True)
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(n)))
    wait_for(f"{n} thumbnails in {dataset_id}", lambda: ready() >= n, timeout=1800, interval=2)


def first_thumbs(page: Page, url: str) -> float:
    """Milliseconds from navigation start to THUMBS thumbs decoded."""
    page.add_init_script(FIRST_THUMBS_PROBE)
    page.goto(url)
    page.wait_for_function("() => window.__firstThumbs !== undefined", timeout=60_000)
    return float(page.evaluate("() => window.__firstThumbs"))


def revisits(browser: Any, url: str, runs: int) -> list[float]:
    """First thumbs on a second visit in the same context (its HTTP cache warm)."""
    times = []
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        first_thumbs(page, url)
        page.goto(url.rsplit("/datasets/", 1)[0] + "/")  # away, then back
        page.goto(url)
        page.wait_for_function("() => window.__firstThumbs !== undefined", timeout=60_000)
        times.append(float(page.evaluate("() => window.__firstThumbs")))
        context.close()
    return times


def spread(times: list[float]) -> dict[str, int]:
    """Min, median and max, rounded to ms."""
    return {
        "min": round(min(times)),
        "median": round(statistics.median(times)),
        "max": round(max(times)),
    }


def scroll_frames(page: Page, url: str, tiles: int) -> dict[str, float]:
    """Frame statistics while scrolling the grid by ``tiles`` tiles."""
    page.goto(url)
    page.wait_for_selector("[role=gridcell] img.thumb")
    columns, row = page.evaluate(
        """() => {
          const row = document.querySelector('[role=row]');
          return [row.children.length, row.getBoundingClientRect().height + 8];
        }"""
    )
    distance = tiles / columns * row
    result = page.evaluate(SCROLL, [distance, 2400])
    return frame_stats(result["gaps"][1:], columns, distance, result["tiles"])


def static_frames(page: Page, api: ServiceProcess, dataset_id: str, tiles: int) -> dict[str, float]:
    """The same scroll over a static page of the same thumbs: the machine's ceiling."""
    items: list[dict[str, Any]] = []
    cursor = None
    while len(items) < tiles + 200:
        params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        url = f"{api.base_url}/v1/datasets/{dataset_id}/images"
        body = httpx.get(url, params=params, timeout=30).json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    cells = "".join(
        f'<div role=gridcell><img loading=lazy decoding=async src="{item["thumb_url"]}"></div>'
        for item in items
    )
    page.set_content(
        "<style>body{margin:0}"
        "[role=grid]{height:1100px;overflow-y:auto;contain:strict;display:grid;gap:8px;"
        "grid-template-columns:repeat(9,176px);grid-auto-rows:176px}"
        "[role=gridcell] img{width:100%;height:100%;object-fit:cover;display:block}</style>"
        f"<div role=grid>{cells}</div>"
    )
    distance = tiles / 9 * (176 + 8)
    result = page.evaluate(SCROLL, [distance, 2400])
    return frame_stats(result["gaps"][1:], 9, distance, result["tiles"])


def frame_stats(gaps: list[float], columns: int, distance: float, tiles: int) -> dict[str, float]:
    """Frames per second and frame-time percentiles of one scroll."""
    gaps = sorted(gaps)
    return {
        "columns": columns,
        "distance_px": round(distance),
        "frames": len(gaps),
        "fps": round(len(gaps) / (sum(gaps) / 1000), 1),
        "p50_ms": round(statistics.median(gaps), 1),
        "p95_ms": round(gaps[int(len(gaps) * 0.95)], 1),
        "max_ms": round(gaps[-1], 1),
        "long_frames": sum(1 for gap in gaps if gap > 50),
        "tiles_in_dom": tiles,
    }


def bundle() -> dict[str, int]:
    """Bytes of the built JS and CSS, raw and gzip -9 (what the gateway's gzip roughly sends)."""
    out: dict[str, int] = {}
    for kind in ("js", "css"):
        files = list((DIST / "assets").glob(f"*.{kind}"))
        out[f"{kind}_bytes"] = sum(f.stat().st_size for f in files)
        out[f"{kind}_gzip"] = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="dataset sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="page loads per dataset")
    parser.add_argument("--scroll-tiles", type=int, default=1000)
    parser.add_argument(
        "--revisit-periods",
        default="3600,0",
        help="API_RENDITION_URL_PERIOD_S values to compare on revisits (largest dataset)",
    )
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        sys.exit("web/dist is missing: run make web")
    sizes = [int(size) for size in args.sizes.split(",")]
    prepare_test_lane()
    skip_history(GROUP)
    services = [
        ServiceProcess(name, group_prefix=GROUP, db=DB, port_offset=120)
        for name in ("indexer", "ingest", "thumbnailer", "api")
    ]
    executable, env = devstack_browser.chromium()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "bundle": bundle(),
        "datasets": {},
    }
    try:
        for service in services:
            service.start()
        api = services[-1]
        s3 = s3_client()
        for n in sizes:
            seed(s3, api, f"webbench-{n}", n)
        gateway = GatewayProcess("bench-web", GATEWAY_PORT, web_root=DIST, api_port=api.port)
        with running(gateway), sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                env={**os.environ, **env},
                args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
            )
            for n in sizes:
                url = f"{gateway.base_url}/datasets/webbench-{n}"
                times = []
                for _ in range(args.runs):
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    times.append(first_thumbs(context.new_page(), url))
                    context.close()
                tiles = min(args.scroll_tiles, n)
                app_runs, static_runs = [], []
                for _ in range(3):  # alternating; the run with the median fps of each is kept
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    app_runs.append(scroll_frames(context.new_page(), url, tiles))
                    context.close()
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    page = context.new_page()
                    page.goto(f"{gateway.base_url}/gateway/healthz")  # an origin for the images
                    static_runs.append(static_frames(page, api, f"webbench-{n}", tiles))
                    context.close()
                frames = sorted(app_runs, key=lambda run: run["fps"])[1]
                static = sorted(static_runs, key=lambda run: run["fps"])[1]
                results["datasets"][n] = {
                    "first_thumbs_ms": spread(times),
                    "scroll": frames,
                    "scroll_fps_runs": [run["fps"] for run in app_runs],
                    "static_fps_runs": [run["fps"] for run in static_runs],
                    "scroll_static_page": static,
                    "fps_ratio_app_to_static": round(frames["fps"] / static["fps"], 2),
                }
                print(f"[web bench] {n}: {json.dumps(results['datasets'][n])}", flush=True)
            url = f"{gateway.base_url}/datasets/webbench-{max(sizes)}"
            results["revisit_first_thumbs_ms"] = {}
            for period in args.revisit_periods.split(","):
                api.stop()  # the same API with rendition URLs stable for `period` seconds
                api.env["API_RENDITION_URL_PERIOD_S"] = period
                api.start()
                found = spread(revisits(browser, url, args.runs))
                results["revisit_first_thumbs_ms"][f"period {period} s"] = found
                print(f"[web bench] revisit, URLs stable {period} s: {found}", flush=True)
            browser.close()
    finally:
        for service in reversed(services):
            service.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
