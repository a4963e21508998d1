"""Webhooks: what an admin saves, what is shown (never the secret after creation), the log."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from assetflow.api.schemas.images import rfc3339_ms
from assetflow.domain.webhooks import EventType

WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=8, max_length=2048, pattern=r"^https?://"),
]
Events = Annotated[
    list[EventType],
    Field(min_length=1, max_length=20, description="the event types sent to this URL"),
]


class WebhookCreate(BaseModel):
    """A webhook to save."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl = Field(
        description="http(s) URL; its host must resolve to public addresses only"
    )
    events: Events
    active: bool = True
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256)] | None = Field(
        default=None, description="the signing secret; one is generated when none is given"
    )


class WebhookUpdate(BaseModel):
    """What to change in a webhook (fields left out stay)."""

    model_config = ConfigDict(extra="forbid")

    url: WebhookUrl | None = None
    events: Events | None = None
    active: bool | None = None


class WebhookPublic(BaseModel):
    """A webhook; its secret is shown only once, when it is created."""

    id: str
    dataset_id: str
    url: str
    events: list[EventType]
    active: bool
    created_at: datetime
    updated_at: datetime

    @field_serializer("created_at", "updated_at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return rfc3339_ms(value)


class WebhookCreated(WebhookPublic):
    """A new webhook, with the secret its deliveries are signed with (shown this once)."""

    secret: str = Field(
        description="X-Signature-256 is sha256=HMAC-SHA256(secret, '<X-Assetflow-Timestamp>.' "
        "+ body), hex"
    )


class WebhookList(BaseModel):
    """A dataset's webhooks, oldest first."""

    items: list[WebhookPublic]


class DeliveryAttempt(BaseModel):
    """One attempt at a delivery."""

    at: datetime
    status_code: int | None = Field(description="the receiver's answer; null: none came")
    duration_ms: int
    error: str | None = Field(description="null when the receiver accepted it (2xx)")

    @field_serializer("at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return rfc3339_ms(value)


class DeliveryPublic(BaseModel):
    """A delivery of one event to one webhook, with its attempts (the last 20)."""

    id: str = Field(description="X-Assetflow-Delivery: the same on every attempt")
    seq: int = Field(description="its place in the webhook's order")
    event: str
    status: str = Field(description="pending, delivered or failed")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="while pending")
    finished_at: datetime | None
    attempt_log: list[DeliveryAttempt]

    @field_serializer("created_at", "next_attempt_at", "finished_at")
    def _rfc3339_utc(self, value: datetime | None) -> str | None:
        return None if value is None else rfc3339_ms(value)


class DeliveriesPage(BaseModel):
    """A page of a webhook's deliveries, newest first."""

    items: list[DeliveryPublic]
    next_before: int | None = Field(description="pass as ?before= for the next page; null: last")


class TestDelivery(BaseModel):
    """A ping queued for the webhook."""

    delivery_id: str
