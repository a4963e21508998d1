"""thumbnailer settings: shared sections plus rendering and concurrency (env ``THUMBNAILER_*``)."""

import os
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.consuming import ConsumerOptions
from assetflow.common.settings import (
    KafkaSettings,
    ObservabilitySettings,
    S3Settings,
    refuse_dev_secrets,
)
from assetflow.thumbnailer.rendering import RenderOptions


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ThumbnailerOptions(ConsumerOptions):
    """How images are processed (env ``THUMBNAILER_*``)."""

    batch_max_records: int = Field(default=64, ge=1, le=10_000)
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
    thumb_edge: int = Field(default=256, ge=16)
    preview_edge: int = Field(default=1280, ge=16)
    thumb_quality: int = Field(default=80, ge=1, le=100)
    preview_quality: int = Field(default=82, ge=1, le=100)
    attempts: int = Field(default=4, ge=1, description="tries of a storage step before the DLQ")
    retry_initial_s: float = Field(default=0.5, ge=0)
    retry_max_s: float = Field(default=5.0, ge=0)

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


class ThumbnailerSettings(BaseSettings):
    """Everything the thumbnailer reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    s3: S3Settings = S3Settings()
    log: ObservabilitySettings = ObservabilitySettings()
    thumbnailer: ThumbnailerOptions = ThumbnailerOptions()

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> Self:
        refuse_dev_secrets(self.env, {"S3_SECRET_KEY": self.s3.secret_key.get_secret_value()})
        return self
