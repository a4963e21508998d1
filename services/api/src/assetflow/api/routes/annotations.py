"""Annotations of one image (read, replace, patch: conditional on the revision) and label counts."""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from assetflow.api.deps import (
    AnnotationsDep,
    ReadableDataset,
    ReadableImage,
    WritableDataset,
    WritableImage,
)
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.annotations import (
    ImageAnnotations,
    ImportResult,
    LabelCount,
    PatchAnnotations,
    ReplaceAnnotations,
)
from assetflow.api.schemas.problems import RevisionProblem
from assetflow.contracts.errors import InvalidRequestError, PreconditionRequiredError
from assetflow.domain.annotating import Annotated as AnnotatedImage
from assetflow.domain.annotating import patch_with, replace_with
from assetflow.domain.coco import CocoFile
from assetflow.readmodel.annotations import L

router = APIRouter(prefix="/v1")
MAX_REPORTED = 1000
_IF_MATCH = (
    'the revision the change is based on, as its ETag: "3" ("0" for an image never annotated)'
)
# Required in the contract; a request without it gets 428 (see problems.py), not 422.
IfMatch = Annotated[str, Header(description=_IF_MATCH, pattern=r'^(\*|(W/)?"?[0-9]{1,18}"?)$')]


def expected_revision(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` names; None for ``*`` (any). Raises for a missing one."""
    if if_match is None:
        raise PreconditionRequiredError(
            'this write needs If-Match with the revision it is based on, e.g. If-Match: "0"'
        )
    value = if_match.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidRequestError(f'If-Match must be a revision such as "3", not {if_match!r}')
    return int(value)


def _body(state: AnnotatedImage, response: Response) -> ImageAnnotations:
    response.headers["ETag"] = f'"{state.revision}"'
    response.headers["Cache-Control"] = "no-cache"
    return ImageAnnotations(
        image_id=state.image_id, revision=state.revision, annotations=state.shapes
    )


_WRITE_ERRORS = problem_responses(
    400,
    404,
    422,
    428,
    503,
    descriptions={
        400: "an invalid shape set: duplicate ids, a shape outside the image, too many",
        428: "If-Match is missing",
    },
) | problem_responses(412, model=RevisionProblem)


@router.get(
    "/images/{image_id}/annotations",
    response_model=ImageAnnotations,
    responses=problem_responses(404, 422, 503),
)
async def get_annotations(
    image_id: ReadableImage, annotations: AnnotationsDep, response: Response
) -> ImageAnnotations:
    """The image's annotations and their revision (also the ETag)."""
    return _body(await annotations.read(image_id), response)


@router.put(
    "/images/{image_id}/annotations",
    response_model=ImageAnnotations,
    responses=_WRITE_ERRORS,
)
async def replace_annotations(
    image_id: WritableImage,
    body: ReplaceAnnotations,
    annotations: AnnotationsDep,
    response: Response,
    if_match: IfMatch,
) -> ImageAnnotations:
    """Replace every shape, if the image is still at the revision If-Match names."""
    expected = expected_revision(if_match)
    written = await annotations.write(image_id, expected, replace_with(body.annotations))
    return _body(written, response)


@router.patch(
    "/images/{image_id}/annotations",
    response_model=ImageAnnotations,
    responses=_WRITE_ERRORS,
)
async def patch_annotations(
    image_id: WritableImage,
    body: PatchAnnotations,
    annotations: AnnotationsDep,
    response: Response,
    if_match: IfMatch,
) -> ImageAnnotations:
    """Upsert shapes by id and delete shapes by id, if the revision still matches."""
    if not body.upsert and not body.delete:
        raise InvalidRequestError("nothing to change: 'upsert' and 'delete' are both empty")
    expected = expected_revision(if_match)
    written = await annotations.write(image_id, expected, patch_with(body.upsert, body.delete))
    return _body(written, response)


@router.get(
    "/datasets/{dataset_id}/labels",
    response_model=list[LabelCount],
    responses=problem_responses(422, 503),
)
async def dataset_labels(
    dataset_id: ReadableDataset, annotations: AnnotationsDep
) -> list[LabelCount]:
    """Shapes and images per label in the dataset, most shapes first; from exact counters."""
    return [
        LabelCount(label=doc[L.LABEL], shapes=int(doc[L.SHAPES]), images=int(doc[L.IMAGES]))
        for doc in await annotations.labels(dataset_id)
    ]


@router.post(
    "/datasets/{dataset_id}/annotations/import",
    response_model=ImportResult,
    responses=problem_responses(400, 422, 503, descriptions={400: "the body is not JSON"}),
)
async def import_annotations(
    dataset_id: WritableDataset, coco: CocoFile, annotations: AnnotationsDep
) -> ImportResult:
    """Import a COCO file: every listed image (matched by ``file_name`` = path) gets exactly
    the file's annotations; an image with any invalid annotation is skipped whole."""
    report = await annotations.import_coco(dataset_id, coco)
    return ImportResult(
        images=report.images,
        shapes=report.shapes,
        unmatched=report.unmatched[:MAX_REPORTED],
        errors=report.errors[:MAX_REPORTED],
    )
