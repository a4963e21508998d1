"""Tag counts, tag changes (one image, or bulk by ids or filter) and command progress."""

from fastapi import APIRouter

from assetflow.api.deps import (
    CallerDep,
    ReadableDataset,
    TaggingDep,
    ViewsDep,
    WritableDataset,
    WritableImage,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.tags import (
    BulkTagRequest,
    CommandAccepted,
    CommandProgress,
    DatasetTags,
    TagChangeRequest,
    TagCount,
)
from assetflow.api.services.tags import TagChange
from assetflow.contracts.errors import InvalidRequestError
from assetflow.readmodel.tag_commands import C, status_of

router = APIRouter(prefix="/v1")


@router.get(
    "/datasets/{dataset_id}/tags",
    response_model=DatasetTags,
    responses=problem_responses(404, 422, 503),
)
async def get_dataset_tags(dataset_id: ReadableDataset, tagging: TaggingDep) -> DatasetTags:
    """Tag counts of a dataset: O(number of tags), from counters the indexer keeps exact."""
    counts = await tagging.counts(dataset_id)
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
    dataset_id: WritableDataset, body: BulkTagRequest, tagging: TaggingDep, views: ViewsDep
) -> CommandAccepted:
    """Change the tags of many images: by ``ids``, or of every image ``where`` selects."""
    change = TagChange.parse(body.add, body.remove)
    if (body.ids is None) == (body.where is None):
        raise InvalidRequestError("give exactly one of 'ids' and 'where'")
    if body.ids is not None:
        command_id = await tagging.change_ids(dataset_id, change, body.ids)
    else:
        assert body.where is not None
        listing = await views.resolve(dataset_id, body.where.view, body.where.listing())
        command_id = await tagging.change_where(dataset_id, change, listing)
    return CommandAccepted(command_id=command_id)


@router.get(
    "/commands/{command_id}",
    response_model=CommandProgress,
    responses=problem_responses(404, 422, 503, descriptions={404: "no command has this id"}),
)
async def get_command(command_id: str, tagging: TaggingDep, caller: CallerDep) -> CommandProgress:
    """Progress of a tag command."""
    doc = await tagging.visible_status(command_id, caller)
    return CommandProgress(
        command_id=doc[C.ID],
        dataset_id=doc[C.DATASET_ID],
        status=status_of(doc),
        matched=doc[C.MATCHED],
        applied=doc[C.APPLIED],
        refused=doc[C.REFUSED],
    )
