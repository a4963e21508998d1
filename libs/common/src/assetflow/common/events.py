"""Versioned domain events on ``assets.objects``; names are past tense because they are facts."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from assetflow.common.layout import image_id


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


class ObjectRemoved(_Event):
    """An object was deleted from the datasets bucket."""

    type: Literal["ObjectRemoved"] = "ObjectRemoved"


ObjectEvent = Annotated[ObjectCreated | ObjectRemoved, Field(discriminator="type")]
OBJECT_EVENT_ADAPTER: TypeAdapter[ObjectCreated | ObjectRemoved] = TypeAdapter(ObjectEvent)


def decode_object_event(raw: bytes | str) -> ObjectCreated | ObjectRemoved:
    """Parse one ``assets.objects`` message body (raises pydantic.ValidationError)."""
    return OBJECT_EVENT_ADAPTER.validate_json(raw)


def event_time_utc(value: datetime) -> datetime:
    """UTC, truncated to the millisecond precision BSON dates keep, so values round-trip."""
    value = value.astimezone(UTC)
    return value.replace(microsecond=(value.microsecond // 1000) * 1000)
