"""Versioned domain events on ``assets.objects``; names are past tense because they are facts.

Thumbnail results share the topic and the message key of the object they are about, so in
each partition a result always comes after the ``ObjectCreated`` it answers: the indexer can
apply both in offset order without reading across topics.
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from assetflow.contracts.layout import image_id
from assetflow.contracts.sequencer import is_newer

ImageStatus = Literal["pending", "ready", "rejected", "failed"]
"""Thumbnailing state of an image: pending until the thumbnailer reports on its version."""
IMAGE_STATUSES: tuple[ImageStatus, ...] = ("pending", "ready", "rejected", "failed")
Split = Literal["train", "val", "test"]
"""The subset of a dataset an image is trained, validated or tested on (or none)."""
SPLITS: tuple[Split, ...] = ("train", "val", "test")


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    bucket: str
    key: str
    dataset_id: str
    path: str
    event_time: AwareDatetime
    sequencer: str = Field(description="normalized (zero-padded, upper-case hex) sequencer")

    @property
    def image_id(self) -> str:
        """Deterministic id of the object this event is about."""
        return image_id(self.bucket, self.key)


class ObjectCreated(_Event):
    """An object was written (created or overwritten) in the datasets bucket."""

    type: Literal["ObjectCreated"] = "ObjectCreated"
    size: int = Field(ge=0)
    etag: str
    content_type: str | None = None
    tags: list[str] = Field(
        default_factory=list,
        description="normalised upload-time tags (x-amz-meta-tags); an optional addition",
    )


class ObjectRemoved(_Event):
    """An object was deleted from the datasets bucket."""

    type: Literal["ObjectRemoved"] = "ObjectRemoved"


ObjectEvent = Annotated[ObjectCreated | ObjectRemoved, Field(discriminator="type")]
OBJECT_EVENT_ADAPTER: TypeAdapter[ObjectCreated | ObjectRemoved] = TypeAdapter(ObjectEvent)


_E = TypeVar("_E", ObjectCreated, ObjectRemoved, ObjectCreated | ObjectRemoved)


def latest_per_object(events: Iterable[_E]) -> dict[str, _E]:
    """Keep only the newest event (highest sequencer) of each object, keyed by image id."""
    latest: dict[str, _E] = {}
    for event in events:
        current = latest.get(event.image_id)
        if current is None or is_newer(event.sequencer, current.sequencer):
            latest[event.image_id] = event
    return latest


def decode_object_event(raw: bytes | str) -> ObjectCreated | ObjectRemoved:
    """Parse one storage event body (raises pydantic.ValidationError)."""
    return OBJECT_EVENT_ADAPTER.validate_json(raw)


class Rendition(BaseModel):
    """One derived image written to the thumbnails bucket."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    size: int = Field(ge=0, description="bytes")
    content_type: str


class ExifSummary(BaseModel):
    """The EXIF fields the listing shows; each is None when the file does not carry it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    captured_at: str | None = Field(
        default=None, description="DateTimeOriginal as ISO 8601, with its offset when recorded"
    )
    make: str | None = None
    model: str | None = None
    orientation: int | None = Field(default=None, ge=1, le=8)


class _ThumbnailResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    image_id: str
    bucket: str
    key: str
    dataset_id: str
    etag: str = Field(description="etag of the version that was processed; guards the update")
    sequencer: str = Field(description="sequencer of the ObjectCreated that was processed")
    processed_at: AwareDatetime


class ThumbnailsCreated(_ThumbnailResult):
    """Thumbnail, preview, dimensions, placeholder and EXIF were made for one object version."""

    type: Literal["ThumbnailsCreated"] = "ThumbnailsCreated"
    thumbnails_bucket: str
    source_format: str = Field(
        description="format family from the file's magic bytes, e.g. 'jpeg', 'png', 'dng', 'arw'"
    )
    width: int = Field(ge=1, description="as displayed, after EXIF orientation")
    height: int = Field(ge=1, description="as displayed, after EXIF orientation")
    thumbhash: str = Field(description="base64 ThumbHash placeholder")
    thumb: Rendition
    preview: Rendition
    exif: ExifSummary = ExifSummary()
    # Optional additions (issue 22): results published before them still parse.
    sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="sha256 of the original's bytes (hex), computed while it streamed in",
    )
    phash: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{16}$",
        description="64-bit DCT perceptual hash of the decoded pixels (16 hex digits)",
    )


class ThumbnailsFailed(_ThumbnailResult):
    """No thumbnails can be made for one object version, and why."""

    type: Literal["ThumbnailsFailed"] = "ThumbnailsFailed"
    status: Literal["rejected", "failed"] = Field(
        description="rejected: not an acceptable image; failed: it could not be processed"
    )
    reason: str


ThumbnailResult = ThumbnailsCreated | ThumbnailsFailed


class ChangeTags(BaseModel):
    """A request to change one image's tags: ``remove`` taken out, then ``add`` put in.

    A command (imperative name), not a fact: the indexer decides whether it applies. It is
    keyed like the object's events, so it is applied in one order with them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["ChangeTags"] = "ChangeTags"
    command_id: str = Field(min_length=1, max_length=64)
    bucket: str
    key: str
    dataset_id: str
    add: list[str] = Field(default_factory=list, description="normalised tags")
    remove: list[str] = Field(default_factory=list, description="normalised tags")
    requested_at: AwareDatetime

    @property
    def image_id(self) -> str:
        """Deterministic id of the image this command is about."""
        return image_id(self.bucket, self.key)


class ChangeSplit(BaseModel):
    """A request to put one image in a split (``None``: in none). A command, keyed like the
    object's events and applied once per image, like ``ChangeTags``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["ChangeSplit"] = "ChangeSplit"
    command_id: str = Field(min_length=1, max_length=64)
    bucket: str
    key: str
    dataset_id: str
    split: Split | None
    requested_at: AwareDatetime

    @property
    def image_id(self) -> str:
        """Deterministic id of the image this command is about."""
        return image_id(self.bucket, self.key)


class AnnotationsChanged(BaseModel):
    """An image's annotations were replaced or patched: a fact, published after the write.

    Keyed like the object's events, so a consumer sees it in order with them. The
    annotations themselves are read from the database (``revision`` says which).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["AnnotationsChanged"] = "AnnotationsChanged"
    bucket: str
    key: str
    dataset_id: str
    revision: int = Field(ge=1)
    shapes: int = Field(ge=0)
    changed_at: AwareDatetime

    @property
    def image_id(self) -> str:
        """Deterministic id of the image whose annotations changed."""
        return image_id(self.bucket, self.key)


AssetMessage = (
    ObjectCreated
    | ObjectRemoved
    | ThumbnailsCreated
    | ThumbnailsFailed
    | ChangeTags
    | ChangeSplit
    | AnnotationsChanged
)
ASSET_MESSAGE_ADAPTER: TypeAdapter[AssetMessage] = TypeAdapter(
    Annotated[AssetMessage, Field(discriminator="type")]
)


def decode_asset_message(raw: bytes | str) -> AssetMessage:
    """Parse any ``assets.objects`` message body (raises pydantic.ValidationError)."""
    return ASSET_MESSAGE_ADAPTER.validate_json(raw)


def event_time_utc(value: datetime) -> datetime:
    """UTC, truncated to the millisecond precision BSON dates keep, so values round-trip."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)
