"""Annotations of one image (read, replace, patch: conditional on the revision) and label counts."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.params import Depends
from pydantic import BaseModel, ConfigDict, Field

from assetflow.api.auth import ReadableDataset, ReadableImage, WritableDataset, WritableImage
from assetflow.api.deps import DbDep, SettingsDep
from assetflow.api.problems import RevisionProblem, problem_responses
from assetflow.common import annotations
from assetflow.common.annotating import Annotated as AnnotatedImage
from assetflow.common.annotating import Annotating, patch_with, replace_with
from assetflow.common.annotations import MAX_SHAPES, L, Shape
from assetflow.common.coco import CocoFile
from assetflow.common.errors import InvalidRequestError, PreconditionRequiredError

router = APIRouter(prefix="/v1")
MAX_REPORTED = 1000
_IF_MATCH = (
    'the revision the change is based on, as its ETag: "3" ("0" for an image never annotated)'
)


async def _annotating(request: Request) -> Annotating:
    return request.state.annotating  # type: ignore[no-any-return]


AnnotatingDep = Annotated[Annotating, Depends(_annotating)]
# Required in the contract; a request without it gets 428 (see problems.py), not 422.
IfMatch = Annotated[str, Header(description=_IF_MATCH, pattern=r'^(\*|(W/)?"?[0-9]{1,18}"?)$')]


class ImageAnnotations(BaseModel):
    """An image's annotations at one revision; the revision is also the response's ETag."""

    image_id: str
    revision: int = Field(description="0 until the image is first annotated")
    annotations: list[Shape]


class ReplaceAnnotations(BaseModel):
    """Every shape of the image (the previous ones are replaced)."""

    model_config = ConfigDict(extra="forbid")

    annotations: list[Shape] = Field(max_length=MAX_SHAPES)


class PatchAnnotations(BaseModel):
    """Shapes to add or replace by id, and ids of shapes to delete."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["upsert"], "properties": {"upsert": {"minItems": 1}}},
                {"required": ["delete"], "properties": {"delete": {"minItems": 1}}},
            ]
        },
    )

    upsert: list[Shape] = Field(default_factory=list, max_length=MAX_SHAPES)
    delete: list[str] = Field(default_factory=list, max_length=MAX_SHAPES)


class LabelCount(BaseModel):
    """How many shapes carry a label, on how many live images of the dataset."""

    label: str
    shapes: int
    images: int


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
    image_id: ReadableImage, annotating: AnnotatingDep, response: Response
) -> ImageAnnotations:
    """The image's annotations and their revision (also the ETag)."""
    return _body(await annotating.read(image_id), response)


async def _write(
    annotating: Annotating, image_id: str, if_match: str | None, change: Any
) -> AnnotatedImage:
    expected = expected_revision(if_match)
    if expected is None:
        expected = (await annotating.read(image_id)).revision
    return await annotating.write(image_id, expected, change)


@router.put(
    "/images/{image_id}/annotations",
    response_model=ImageAnnotations,
    responses=_WRITE_ERRORS,
)
async def replace_annotations(
    image_id: WritableImage,
    body: ReplaceAnnotations,
    annotating: AnnotatingDep,
    response: Response,
    if_match: IfMatch,
) -> ImageAnnotations:
    """Replace every shape, if the image is still at the revision If-Match names."""
    written = await _write(annotating, image_id, if_match, replace_with(body.annotations))
    return _body(written, response)


@router.patch(
    "/images/{image_id}/annotations",
    response_model=ImageAnnotations,
    responses=_WRITE_ERRORS,
)
async def patch_annotations(
    image_id: WritableImage,
    body: PatchAnnotations,
    annotating: AnnotatingDep,
    response: Response,
    if_match: IfMatch,
) -> ImageAnnotations:
    """Upsert shapes by id and delete shapes by id, if the revision still matches."""
    if not body.upsert and not body.delete:
        raise InvalidRequestError("nothing to change: 'upsert' and 'delete' are both empty")
    written = await _write(annotating, image_id, if_match, patch_with(body.upsert, body.delete))
    return _body(written, response)


@router.get(
    "/datasets/{dataset_id}/labels",
    response_model=list[LabelCount],
    responses=problem_responses(422, 503),
)
async def dataset_labels(dataset_id: ReadableDataset, db: DbDep) -> list[LabelCount]:
    """Shapes and images per label in the dataset, most shapes first; from exact counters."""
    found = db[annotations.LABEL_COUNTS].find({L.DATASET_ID: dataset_id, L.IMAGES: {"$gt": 0}})
    rows = [
        LabelCount(label=doc[L.LABEL], shapes=int(doc[L.SHAPES]), images=int(doc[L.IMAGES]))
        async for doc in found
    ]
    return sorted(rows, key=lambda row: (-row.shapes, row.label))


class ImportResult(BaseModel):
    """What an import wrote, and everything it could not use (with reasons)."""

    images: int = Field(description="images whose annotations were replaced")
    shapes: int = Field(description="shapes written")
    unmatched: list[str] = Field(description="file names with no live image in the dataset")
    errors: list[str] = Field(description="per image or annotation: why it was skipped")


@router.post(
    "/datasets/{dataset_id}/annotations/import",
    response_model=ImportResult,
    responses=problem_responses(400, 422, 503, descriptions={400: "the body is not JSON"}),
)
async def import_annotations(
    dataset_id: WritableDataset,
    coco: CocoFile,
    annotating: AnnotatingDep,
    settings: SettingsDep,
) -> ImportResult:
    """Import a COCO file: every listed image (matched by ``file_name`` = path) gets exactly
    the file's annotations; an image with any invalid annotation is skipped whole."""
    report = await annotating.import_coco(dataset_id, settings.s3.bucket, coco)
    return ImportResult(
        images=report.images,
        shapes=report.shapes,
        unmatched=report.unmatched[:MAX_REPORTED],
        errors=report.errors[:MAX_REPORTED],
    )
