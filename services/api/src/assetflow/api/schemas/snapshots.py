"""Snapshot requests, versions and the diff between two versions."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assetflow.api.schemas.tags import Where
from assetflow.contracts.commands import SnapshotFormat, SnapshotStatus


class SnapshotRequest(BaseModel):
    """What to snapshot: every live image the filter selects, with its annotations."""

    model_config = ConfigDict(extra="forbid")

    format: SnapshotFormat = Field(
        default="coco",
        description="coco, yolo, voc (Pascal VOC) or hf (Hugging Face imagefolder); "
        "the layouts are in docs/api.md",
    )
    where: Where = Field(default_factory=Where)


class Accepted(BaseModel):
    """A snapshot request was recorded and its command published."""

    snapshot_id: str
    status: Literal["queued"]


class Progress(BaseModel):
    """How far a build is."""

    images_done: int
    images_total: int
    bytes_done: int
    bytes_total: int


class SnapshotPublic(BaseModel):
    """A snapshot request or version; ``url`` (presigned) only on a version's own resource."""

    snapshot_id: str
    dataset_id: str
    status: SnapshotStatus
    format: SnapshotFormat
    where: dict[str, Any]
    version: int | None = Field(description="the version built (ready), or being built")
    based_on: int | None = Field(description="unchanged: the existing version it equals")
    content_id: str | None
    images: int
    bytes: int
    shapes: int
    size: int | None = Field(description="bytes of the zip")
    reason: str | None
    progress: Progress
    created_at: datetime
    finished_at: datetime | None
    url: str | None = None


class SnapshotList(BaseModel):
    """Ready versions, newest first."""

    items: list[SnapshotPublic]


class DiffEntry(BaseModel):
    """One image that differs between two versions."""

    path: str
    change: Literal["added", "removed", "changed"]
    bytes: bool = Field(description="the file differs (etag or size)")
    annotations: bool = Field(description="the annotations differ")
    split: bool = Field(default=False, description="the image moved to another split")
