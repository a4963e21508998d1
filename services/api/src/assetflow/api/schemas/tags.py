"""Tag counts, tag changes (one image, or bulk by ids or filter) and command progress."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assetflow.contracts.events import ImageStatus
from assetflow.contracts.tags import MAX_TAGS_PER_IMAGE, TAG_PATTERN
from assetflow.readmodel.filters import ListingFilter, Match, SplitFilter
from assetflow.readmodel.tag_commands import CommandStatus

MAX_IDS = 1000
MAX_WHERE_IMAGES = 100_000
# One tag as sent (normalised server-side); a list longer than the per-image limit is a 400
# naming that limit, so max_length here only bounds the body.
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TAG_PATTERN)]
_Tags: Any = Field(default_factory=list, max_length=1000)


class TagCount(BaseModel):
    """How many live images of the dataset carry a tag."""

    tag: str
    count: int


class DatasetTags(BaseModel):
    """A dataset's tags, most used first (then by name), read from exact counters."""

    dataset_id: str
    tags: list[TagCount]
    untagged: int = Field(description="live images without any tag")


def _non_empty(name: str) -> dict[str, Any]:
    return {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}


def present(name: str, kind: str) -> dict[str, Any]:
    """JSON schema: ``name`` is given, as a ``kind`` (for a schema's ``oneOf``)."""
    return {"required": [name], "properties": {name: {"type": kind}}}


class TagChangeRequest(BaseModel):
    """Tags to remove, then tags to add (a tag in both ends up present).

    Tags are normalised: Unicode NFC, lower case, trimmed; 1-64 characters, no comma.
    """

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [_non_empty("add"), _non_empty("remove")]}
    )

    add: list[Tag] = _Tags
    remove: list[Tag] = _Tags


class Filter(BaseModel):
    """The images a listing with these filters returns."""

    model_config = ConfigDict(strict=True)  # "true" is not a boolean, "1" not a folder list

    folder: str | None = Field(default=None, max_length=1024)
    status: ImageStatus | None = None
    tags: list[Tag] = _Tags
    match: Match = "all"
    untagged: bool = False
    split: SplitFilter | None = Field(default=None, description="none: the images in no split")
    duplicates: bool = Field(
        default=False, description="only images another live image has the same bytes as"
    )

    def listing(self) -> ListingFilter:
        """The validated listing filter; raises InvalidRequestError."""
        tags = ",".join(self.tags) or None
        return ListingFilter.parse(
            self.folder, self.status, tags, self.match, self.untagged, self.split, self.duplicates
        )


class Where(Filter):
    """Filters, or a saved view (alone)."""

    view: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="a saved view's id: its filter, instead of the fields above",
    )


class BulkTagRequest(TagChangeRequest):
    """A change applied to ``ids`` (at most 1,000) or to every image ``where`` selects."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [_non_empty("add"), _non_empty("remove")],
            "oneOf": [present("ids", "array"), present("where", "object")],
        }
    )

    ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_IDS)
    where: Where | None = Field(
        default=None, description=f"at most {MAX_WHERE_IMAGES:,} images, newest first"
    )


class CommandAccepted(BaseModel):
    """The command is recorded; follow it at ``GET /v1/commands/{command_id}``."""

    command_id: str


class CommandProgress(BaseModel):
    """Where a tag command is: images selected, and processed by the indexer."""

    command_id: str
    dataset_id: str
    status: CommandStatus = Field(description="accepted, running, or done")
    matched: int = Field(description="images the selection matched (so far)")
    applied: int = Field(description="images the indexer has processed")
    refused: int = Field(description=f"images left unchanged: over {MAX_TAGS_PER_IMAGE} tags")
