"""Tag counts, tag changes (one image, or bulk by ids or filter) and command progress."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.params import Depends
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assetflow.api import repository
from assetflow.api.auth import (
    CallerDep,
    ReadableDataset,
    WritableDataset,
    WritableImage,
    require_visible,
)
from assetflow.api.deps import DbDep
from assetflow.api.problems import problem_responses
from assetflow.api.tagging import MAX_WHERE_IMAGES, TagChange, Tagging
from assetflow.common.commands import C, CommandStatus, status_of
from assetflow.common.errors import InvalidRequestError
from assetflow.common.events import ImageStatus
from assetflow.common.filters import ListingFilter, Match
from assetflow.common.tags import MAX_TAGS_PER_IMAGE, TAG_PATTERN

router = APIRouter(prefix="/v1")
MAX_IDS = 1000
# One tag as sent (normalised server-side); a list longer than the per-image limit is a 400
# naming that limit, so max_length here only bounds the body.
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TAG_PATTERN)]
_Tags: Any = Field(default_factory=list, max_length=1000)


async def _tagging(request: Request) -> Tagging:
    return request.state.tagging  # type: ignore[no-any-return]


TaggingDep = Annotated[Tagging, Depends(_tagging)]


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


def _present(name: str, kind: str) -> dict[str, Any]:
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


class Where(BaseModel):
    """The images a listing with these filters returns."""

    model_config = ConfigDict(strict=True)  # "true" is not a boolean, "1" not a folder list

    folder: str | None = Field(default=None, max_length=1024)
    status: ImageStatus | None = None
    tags: list[Tag] = _Tags
    match: Match = "all"
    untagged: bool = False


class BulkTagRequest(TagChangeRequest):
    """A change applied to ``ids`` (at most 1,000) or to every image ``where`` selects."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [_non_empty("add"), _non_empty("remove")],
            "oneOf": [_present("ids", "array"), _present("where", "object")],
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


@router.get(
    "/datasets/{dataset_id}/tags",
    response_model=DatasetTags,
    responses=problem_responses(404, 422, 503),
)
async def get_dataset_tags(dataset_id: ReadableDataset, db: DbDep) -> DatasetTags:
    """Tag counts of a dataset: O(number of tags), from counters the indexer keeps exact."""
    counts = await repository.dataset_counts(db, dataset_id)
    ordered = sorted(counts.tags.items(), key=lambda item: (-item[1], item[0]))
    return DatasetTags(
        dataset_id=dataset_id,
        tags=[TagCount(tag=tag, count=count) for tag, count in ordered if count > 0],
        untagged=counts.untagged,
    )


@router.patch(
    "/images/{image_id}/tags",
    status_code=202,
    response_model=CommandAccepted,
    responses=problem_responses(400, 404, 422, 503),
)
async def change_image_tags(
    image_id: WritableImage, body: TagChangeRequest, tagging: TaggingDep
) -> CommandAccepted:
    """Change one image's tags; visible in listings and counts about a second later."""
    change = TagChange.parse(body.add, body.remove)
    return CommandAccepted(command_id=await tagging.change_image(image_id, change))


@router.post(
    "/datasets/{dataset_id}/tags/bulk",
    status_code=202,
    response_model=CommandAccepted,
    responses=problem_responses(400, 404, 422, 503),
)
async def bulk_change_tags(
    dataset_id: WritableDataset, body: BulkTagRequest, tagging: TaggingDep
) -> CommandAccepted:
    """Change the tags of many images: by ``ids``, or of every image ``where`` selects."""
    change = TagChange.parse(body.add, body.remove)
    if (body.ids is None) == (body.where is None):
        raise InvalidRequestError("give exactly one of 'ids' and 'where'")
    if body.ids is not None:
        command_id = await tagging.change_ids(dataset_id, change, body.ids)
    else:
        assert body.where is not None
        where = body.where
        listing = ListingFilter.parse(
            where.folder, where.status, where.tags, where.match, where.untagged
        )
        command_id = await tagging.change_where(dataset_id, change, listing)
    return CommandAccepted(command_id=command_id)


@router.get(
    "/commands/{command_id}",
    response_model=CommandProgress,
    responses=problem_responses(404, 422, 503, descriptions={404: "no command has this id"}),
)
async def get_command(command_id: str, tagging: TaggingDep, caller: CallerDep) -> CommandProgress:
    """Progress of a tag command."""
    doc: Any = await tagging.status(command_id)
    require_visible(caller, doc[C.DATASET_ID], f"command {command_id!r}")
    return CommandProgress(
        command_id=doc[C.ID],
        dataset_id=doc[C.DATASET_ID],
        status=status_of(doc),
        matched=doc[C.MATCHED],
        applied=doc[C.APPLIED],
        refused=doc[C.REFUSED],
    )
