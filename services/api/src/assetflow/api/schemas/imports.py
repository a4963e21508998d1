"""Zip imports: the request to unpack an uploaded zip, and its status."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assetflow.contracts.commands import ImportStatus


class ImportRequest(BaseModel):
    """The uploaded zip: its key under ``<dataset>/imports/``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=1100, examples=["ds1/imports/batch-7.zip"])


class ImportAccepted(BaseModel):
    """The import was recorded and its command published."""

    import_id: str
    status: Literal["queued"]


class ImportPublic(BaseModel):
    """An import: its status, what it wrote, and every reason it refused the zip."""

    import_id: str
    dataset_id: str
    key: str
    status: ImportStatus
    problems: list[str] = Field(description="why the zip was refused (nothing was written)")
    images_total: int
    images_done: int
    annotated: int = Field(
        description="images whose annotations the zip's COCO, YOLO or VOC files set"
    )
    annotation_errors: list[str]
    created_at: datetime
    finished_at: datetime | None
