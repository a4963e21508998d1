"""Commands on the commands topic (keyed by dataset) and the snapshots topic's events
(snapshot progress and outcomes, import outcomes)."""

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

SnapshotFormat = Literal["coco", "yolo", "voc", "hf"]
SnapshotStatus = Literal["queued", "running", "ready", "unchanged", "failed"]
ImportStatus = Literal["queued", "running", "indexing", "done", "failed"]


class CreateSnapshot(BaseModel):
    """A request to build a snapshot: a command, keyed by dataset on the commands topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["CreateSnapshot"] = "CreateSnapshot"
    snapshot_id: str = Field(min_length=1, max_length=64)
    dataset_id: str
    requested_at: AwareDatetime


class SnapshotEvent(BaseModel):
    """Progress and outcome of a snapshot build, keyed by dataset on the snapshots topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["SnapshotProgress", "SnapshotCreated", "SnapshotFailed"]
    snapshot_id: str
    dataset_id: str
    status: SnapshotStatus
    snapshot_version: int | None = None
    images_done: int = 0
    images_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    reason: str | None = None
    at: AwareDatetime


class ImportZip(BaseModel):
    """A request to unpack an uploaded zip into a dataset: a command on the commands topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["ImportZip"] = "ImportZip"
    import_id: str = Field(min_length=1, max_length=64)
    dataset_id: str
    requested_at: AwareDatetime


class ImportFinished(BaseModel):
    """An import ended (done or failed): a fact, keyed by dataset on the snapshots topic (the
    jobs' outcomes topic). Published again if its command is redelivered after it ended, so a
    consumer keys it by ``import_id`` and ``status``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    type: Literal["ImportFinished"] = "ImportFinished"
    import_id: str
    dataset_id: str
    status: Literal["done", "failed"]
    images: int = Field(default=0, ge=0, description="images written into the dataset")
    annotated: int = Field(default=0, ge=0, description="images whose annotations were imported")
    problems: list[str] = Field(default_factory=list, description="why it failed (first 10)")
    at: AwareDatetime


JobEvent = Annotated[SnapshotEvent | ImportFinished, Field(discriminator="type")]
_JOB_EVENTS: TypeAdapter[SnapshotEvent | ImportFinished] = TypeAdapter(JobEvent)


def decode_job_event(raw: bytes) -> SnapshotEvent | ImportFinished:
    """Parse a snapshots-topic message (raises pydantic.ValidationError)."""
    return _JOB_EVENTS.validate_json(raw)


Command = Annotated[CreateSnapshot | ImportZip, Field(discriminator="type")]
_COMMANDS: TypeAdapter[CreateSnapshot | ImportZip] = TypeAdapter(Command)


def decode_command(raw: bytes) -> CreateSnapshot | ImportZip:
    """Parse a commands-topic message (raises pydantic.ValidationError)."""
    return _COMMANDS.validate_json(raw)
