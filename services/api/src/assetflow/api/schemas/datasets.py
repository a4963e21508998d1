"""The dataset catalog and per-dataset stats."""

from datetime import datetime

from pydantic import BaseModel, Field, field_serializer

from assetflow.api.schemas.images import rfc3339_ms
from assetflow.api.schemas.quotas import QuotaLimits


class StatusCounts(BaseModel):
    """Live images per thumbnailing state."""

    pending: int = 0
    ready: int = 0
    rejected: int = 0
    failed: int = 0


class DatasetStats(BaseModel):
    """Totals over a dataset's live images, read from counters the indexer keeps exact."""

    dataset_id: str
    image_count: int
    total_bytes: int
    statuses: StatusCounts = StatusCounts()
    quota: QuotaLimits | None = Field(
        default=None, description="the limits an admin set (GET .../quota: with what remains)"
    )
    updated_at: datetime | None = Field(
        default=None,
        description="when the indexer last changed one of its images (RFC 3339, UTC, ms)",
        json_schema_extra={"format": "date-time"},
    )

    @field_serializer("updated_at")
    def _rfc3339_utc(self, value: datetime | None) -> str | None:
        return rfc3339_ms(value) if value else None


class FolderCount(BaseModel):
    """A folder and how many live images it holds itself (not counting its subfolders)."""

    folder: str = Field(description='path under the dataset\'s images/, "" for the top level')
    images: int


class DatasetFolders(BaseModel):
    """A dataset's folders with images, by name, read from exact counters."""

    dataset_id: str
    folders: list[FolderCount]


class DatasetsPage(BaseModel):
    """Datasets with live images, by id."""

    items: list[DatasetStats]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")
