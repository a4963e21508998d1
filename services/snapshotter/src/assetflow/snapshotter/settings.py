"""snapshotter settings: shared sections plus build tuning (env ``SNAPSHOTTER_*``)."""

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assetflow.common.settings import (
    KafkaSettings,
    MongoSettings,
    ObservabilitySettings,
    S3Settings,
)


class SnapshotterOptions(BaseModel):
    """How a build streams (env ``SNAPSHOTTER_*``)."""

    # Memory of a build is about part_size * (parts_in_flight + 1) + prefetch_bytes.
    part_size: int = Field(
        default=5 << 20, ge=5 << 20, description="multipart part size floor (bytes)"
    )
    parts_in_flight: int = Field(default=2, ge=1, le=8)
    prefetch_bytes: int = Field(
        default=16 << 20, ge=1 << 20, description="small originals fetched ahead, in total"
    )
    prefetch_objects: int = Field(default=16, ge=1, le=128)
    progress_interval_s: float = Field(default=1.0, gt=0)
    max_build_s: int = Field(
        default=4 * 3600, ge=60, description="longest build before Kafka reassigns the command"
    )


class SnapshotterSettings(BaseSettings):
    """Everything the snapshotter reads from the environment."""

    model_config = SettingsConfigDict(env_nested_delimiter="_", env_nested_max_split=1)

    env: str = "local"
    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    s3: S3Settings = S3Settings()
    log: ObservabilitySettings = ObservabilitySettings()
    snapshotter: SnapshotterOptions = SnapshotterOptions()
