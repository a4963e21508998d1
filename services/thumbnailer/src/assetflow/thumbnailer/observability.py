"""Thumbnailer metrics: outcomes, stage durations, bytes read, images in flight, RAW routes."""

from prometheus_client import Counter, Gauge, Histogram

IMAGES = Counter(
    "assetflow_thumbnailer_images_total",
    "Object events handled, by outcome "
    "(ready, rejected, failed, superseded, removed, dead_lettered)",
    ["outcome"],
)
DURATION = Histogram(
    "assetflow_thumbnailer_duration_seconds",
    "Time per image and stage (fetch, render, store, total)",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BYTES_READ = Counter("assetflow_thumbnailer_bytes_read_total", "Bytes of originals downloaded")
IN_FLIGHT = Gauge("assetflow_thumbnailer_in_flight", "Images being downloaded, decoded or stored")
RAW_DECODES = Counter(
    "assetflow_thumbnailer_raw_decodes_total",
    "Camera RAW files rendered, by format and route (embedded_jpeg, embedded_bitmap, demosaic)",
    ["format", "route"],
)
