"""snapshotter settings: the service base, S3 and MongoDB, plus build tuning."""

from pydantic import BaseModel, Field

from assetflow.platform.settings import ServiceSettings, WithMongo, WithS3


class SnapshotterOptions(BaseModel):
    """How a build streams (env ``SNAPSHOTTER_*``)."""

    # Memory of a build is about part_size * (parts_in_flight + 1) + prefetch_bytes.
    part_size: int = Field(
        default=5 << 20, ge=5 << 20, description="multipart part size floor (bytes)"
    )
    parts_in_flight: int = Field(default=2, ge=1, le=8, description="parts uploading at once")
    prefetch_bytes: int = Field(
        default=16 << 20, ge=1 << 20, description="small originals fetched ahead, in total"
    )
    prefetch_objects: int = Field(
        default=16, ge=1, le=128, description="small originals fetched ahead, in number"
    )
    progress_interval_s: float = Field(
        default=1.0, gt=0, description="how often a build or import reports its progress"
    )
    max_build_s: int = Field(
        default=4 * 3600, ge=60, description="longest build before Kafka reassigns the command"
    )


class SnapshotterSettings(ServiceSettings, WithMongo, WithS3):
    """Everything the snapshotter reads from the environment."""

    snapshotter: SnapshotterOptions = SnapshotterOptions()
