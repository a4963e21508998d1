"""API response models (kept apart from event schemas on purpose)."""

from datetime import datetime

from pydantic import BaseModel, Field, field_serializer

from assetflow.common.events import ImageStatus


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
    status: ImageStatus = Field(
        description="pending until thumbnailed; ready, or rejected / failed with a reason"
    )
    status_reason: str | None = Field(description="why the image is rejected or failed")
    width: int | None = Field(description="pixels as displayed (after EXIF orientation)")
    height: int | None = Field(description="pixels as displayed (after EXIF orientation)")
    thumbhash: str | None = Field(description="base64 ThumbHash placeholder")
    captured_at: str | None = Field(
        description="EXIF capture time, ISO 8601 local time (with offset when recorded)"
    )
    camera: str | None = Field(description="EXIF camera make and model")
    thumb_url: str | None = Field(description="presigned GET of the WebP thumbnail (<= 256 px)")
    preview_url: str | None = Field(description="presigned GET of the JPEG preview (<= 1280 px)")

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
