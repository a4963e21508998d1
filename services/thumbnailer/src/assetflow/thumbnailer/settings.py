"""thumbnailer settings: the service base and S3, plus rendering and concurrency."""

import os

from pydantic import Field

from assetflow.platform.consuming import ConsumerOptions
from assetflow.platform.settings import ServiceSettings, WithS3
from assetflow.thumbnailer.rendering import RenderOptions


def _cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ThumbnailerOptions(ConsumerOptions):
    """How images are processed (env ``THUMBNAILER_*``)."""

    batch_max_records: int = Field(
        default=64, ge=1, le=10_000, description="records per batch (images are heavy)"
    )
    workers: int = Field(default_factory=_cores, ge=1, description="decode threads")
    in_flight: int = Field(
        default=0, ge=0, description="images downloaded or decoding at once; 0 = 2 x workers"
    )
    vips_threads: int = Field(default=1, ge=1, description="libvips threads per image")
    max_pixels: int = Field(default=100_000_000, ge=1, description="larger images are rejected")
    max_bytes: int = Field(default=512 << 20, ge=1, description="larger files are rejected")
    spool_bytes: int = Field(
        default=8 << 20, ge=0, description="originals larger than this go to a temp file"
    )
    spool_dir: str | None = Field(default=None, description="defaults to the system temp dir")
    thumb_edge: int = Field(default=256, ge=16, description="thumbnail long edge, px")
    preview_edge: int = Field(default=1280, ge=16, description="preview long edge, px")
    thumb_quality: int = Field(default=80, ge=1, le=100, description="thumbnail WebP quality")
    preview_quality: int = Field(default=82, ge=1, le=100, description="preview JPEG quality")
    attempts: int = Field(default=4, ge=1, description="tries of a storage step before the DLQ")
    retry_initial_s: float = Field(
        default=0.5, ge=0, description="first back-off of a storage step, doubled each try"
    )
    retry_max_s: float = Field(default=5.0, ge=0, description="longest back-off between tries")

    @property
    def max_in_flight(self) -> int:
        """Images allowed in flight, so downloads overlap decoding without unbounded memory."""
        return self.in_flight or 2 * self.workers

    def render_options(self) -> RenderOptions:
        """The rendering part of these options."""
        return RenderOptions(
            thumb_edge=self.thumb_edge,
            preview_edge=self.preview_edge,
            thumb_quality=self.thumb_quality,
            preview_quality=self.preview_quality,
            max_pixels=self.max_pixels,
        )


class ThumbnailerSettings(ServiceSettings, WithS3):
    """Everything the thumbnailer reads from the environment."""

    thumbnailer: ThumbnailerOptions = ThumbnailerOptions()
