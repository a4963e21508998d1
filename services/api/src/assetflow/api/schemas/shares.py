"""Share links: what an admin creates and lists, and what a link's holder sees."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
)

from assetflow.api.schemas.images import rfc3339_ms
from assetflow.api.schemas.tags import Filter
from assetflow.api.sharing import MAX_EXPIRY, MIN_EXPIRY
from assetflow.contracts.events import ImageStatus, Split

ShareState = Literal["active", "expired", "revoked"]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class ShareCreate(BaseModel):
    """A link to create: an expiry (required: exactly one of the two fields, else 400, a rule
    JSON Schema cannot state), optionally a saved view, a password, originals."""

    model_config = ConfigDict(extra="forbid")

    expires_in_s: int | None = Field(
        default=None,
        ge=int(MIN_EXPIRY.total_seconds()),
        le=int(MAX_EXPIRY.total_seconds()),
        description="seconds from now (1 minute to 90 days); or give expires_at",
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="when it stops working (within 90 days); or expires_in_s"
    )
    view_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="share this saved view's images (its filter as it is now); "
        "none: the whole dataset",
    )
    password: Password | None = Field(
        default=None, description="asked before anything is shown (8 to 200 characters)"
    )
    allow_originals: bool = Field(
        default=False, description="the link may download originals, not only previews"
    )


class SharePublic(BaseModel):
    """A share link as its admins see it (never its token)."""

    id: str
    dataset_id: str
    view_id: str | None
    view_name: str | None = Field(description="the view's name now; null when deleted or none")
    where: Filter = Field(description="the filter it shares (the view's, when made)")
    expires_at: datetime
    allow_originals: bool
    has_password: bool
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    state: ShareState = Field(description="active; or expired / revoked (it answers 404)")

    @field_serializer("expires_at", "created_at")
    def _rfc3339(self, value: datetime) -> str:
        return rfc3339_ms(value)

    @field_serializer("revoked_at")
    def _rfc3339_or_null(self, value: datetime | None) -> str | None:
        return None if value is None else rfc3339_ms(value)


class ShareCreated(SharePublic):
    """A new link: its token and path are shown this once, and never again."""

    token: str = Field(description="the link's secret; only its hash is stored")
    path: str = Field(description="the web UI's page for it: /s/<token>")


class ShareList(BaseModel):
    """A dataset's share links, newest first."""

    items: list[SharePublic]


class ShareInfo(BaseModel):
    """What a link opens. Behind a password, only that a password is needed and until when."""

    expires_at: datetime
    needs_password: bool = Field(description="send the unlock session as X-Share-Session")
    unlocked: bool = Field(description="the images may be listed with what this request sent")
    dataset_id: str | None = Field(description="null until unlocked")
    view_name: str | None = Field(description="the saved view it shares; null: whole dataset")
    allow_originals: bool

    @field_serializer("expires_at")
    def _rfc3339(self, value: datetime) -> str:
        return rfc3339_ms(value)


class ShareUnlock(BaseModel):
    """The link's password."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)


class ShareSession(BaseModel):
    """An unlocked link: send ``session`` as the X-Share-Session header until it expires."""

    session: str
    expires_at: datetime

    @field_serializer("expires_at")
    def _rfc3339(self, value: datetime) -> str:
        return rfc3339_ms(value)


class SharedImage(BaseModel):
    """An image as a share link shows it: no storage key, hashes or annotations."""

    id: str
    path: str
    folder: str
    file_name: str
    size: int
    content_type: str | None
    uploaded_at: datetime = Field(json_schema_extra={"format": "date-time"})
    url: str | None = Field(description="presigned GET of the original; null unless allowed")
    status: ImageStatus
    status_reason: str | None
    width: int | None
    height: int | None
    thumbhash: str | None
    captured_at: str | None
    camera: str | None
    thumb_url: str | None
    preview_url: str | None
    tags: list[str]
    split: Split | None

    @field_serializer("uploaded_at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return rfc3339_ms(value)


class SharedImagesPage(BaseModel):
    """A page of a link's images, newest first."""

    items: list[SharedImage]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null: last")
