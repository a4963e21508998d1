"""Zip imports: request the unpacking of an uploaded zip, and follow it."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assetflow.api.auth import CallerDep, WritableDataset, find_visible
from assetflow.api.deps import DbDep, PublisherDep, SettingsDep
from assetflow.api.problems import problem_responses
from assetflow.api.publishing import accept
from assetflow.api.routes.media import S3Dep
from assetflow.common import zipimport
from assetflow.common.errors import InvalidRequestError, NotFoundError, StorageUnavailableError
from assetflow.common.zipimport import I, ImportZip, path_problem

router = APIRouter(prefix="/v1")


class ImportRequest(BaseModel):
    """The uploaded zip: its key under ``<dataset>/imports/``."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=1100, examples=["ds1/imports/batch-7.zip"])


class ImportAccepted(BaseModel):
    """The import was recorded and its command published."""

    import_id: str
    status: Literal["queued"]


class ImportPublic(BaseModel):
    """An import: its status, what it wrote, and every reason it refused the zip."""

    import_id: str
    dataset_id: str
    key: str
    status: zipimport.ImportStatus
    problems: list[str] = Field(description="why the zip was refused (nothing was written)")
    images_total: int
    images_done: int
    annotated: int = Field(description="images whose annotations the zip's COCO file set")
    annotation_errors: list[str]
    created_at: datetime
    finished_at: datetime | None


def public(doc: dict[str, Any]) -> ImportPublic:
    """An import document as the API shows it."""
    return ImportPublic(
        import_id=doc[I.ID],
        dataset_id=doc[I.DATASET_ID],
        key=doc[I.KEY],
        status=doc[I.STATUS],
        problems=doc.get(I.PROBLEMS) or [],
        images_total=int(doc.get(I.IMAGES_TOTAL) or 0),
        images_done=int(doc.get(I.IMAGES_DONE) or 0),
        annotated=int(doc.get(I.ANNOTATED) or 0),
        annotation_errors=doc.get(I.ANNOTATION_ERRORS) or [],
        created_at=doc[I.CREATED_AT],
        finished_at=doc.get(I.FINISHED_AT),
    )


@router.post(
    "/datasets/{dataset_id}/imports",
    status_code=202,
    response_model=ImportAccepted,
    responses=problem_responses(400, 404, 422, 503, descriptions={404: "no such zip in storage"}),
)
async def request_import(
    dataset_id: WritableDataset,
    body: ImportRequest,
    db: DbDep,
    s3: S3Dep,
    settings: SettingsDep,
    publisher: PublisherDep,
) -> ImportAccepted:
    """Unpack an uploaded zip (``images/...`` + optional COCO ``annotations.json``) into the
    dataset; the snapshotter checks every entry first and writes nothing if one is refused."""
    prefix = f"{dataset_id}/imports/"
    rest = body.key.removeprefix(prefix)
    if rest == body.key or not rest or (problem := path_problem(rest)):
        reason = "not under " + prefix if rest == body.key or not rest else problem
        raise InvalidRequestError(f"key {body.key!r}: {reason}")
    try:
        await s3.head_object(Bucket=settings.s3.bucket, Key=body.key)
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise NotFoundError(f"no object {body.key!r}; upload the zip first") from None
        raise StorageUnavailableError(f"storage refused the lookup: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailableError(f"storage unavailable: {exc}") from exc
    import_id = uuid.uuid4().hex
    command = ImportZip(import_id=import_id, dataset_id=dataset_id, requested_at=datetime.now(UTC))
    await accept(db[zipimport.COLLECTION], {I.ID: import_id, I.KEY: body.key}, publisher, command)
    return ImportAccepted(import_id=import_id, status="queued")


@router.get(
    "/imports/{import_id}",
    response_model=ImportPublic,
    responses=problem_responses(404, 422, 503),
)
async def import_status(import_id: str, db: DbDep, caller: CallerDep) -> ImportPublic:
    """An import's status and report."""
    return public(
        await find_visible(db[zipimport.COLLECTION], import_id, caller, f"import {import_id!r}")
    )
