"""API response models (kept apart from event schemas on purpose)."""

from datetime import datetime

from pydantic import BaseModel, Field, field_serializer


class ImagePublic(BaseModel):
    """One indexed image as clients see it."""

    id: str
    dataset_id: str
    key: str
    path: str
    folder: str
    file_name: str
    size: int
    content_type: str | None
    etag: str
    uploaded_at: datetime
    url: str = Field(description="presigned GET of the original")

    @field_serializer("uploaded_at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class ImagesPage(BaseModel):
    """A page of images, newest first."""

    items: list[ImagePublic]
    next_cursor: str | None


class DatasetStats(BaseModel):
    """Totals over a dataset's live images."""

    dataset_id: str
    image_count: int
    total_bytes: int
