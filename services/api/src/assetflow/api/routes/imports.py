"""Zip imports: request the unpacking of an uploaded zip, and follow it."""

from typing import Any

from fastapi import APIRouter

from assetflow.api.deps import CallerDep, ImportsDep, WritableDataset
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.imports import ImportAccepted, ImportPublic, ImportRequest
from assetflow.readmodel.imports import I

router = APIRouter(prefix="/v1")


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
    dataset_id: WritableDataset, body: ImportRequest, imports: ImportsDep
) -> ImportAccepted:
    """Unpack an uploaded zip into the dataset: COCO (``images/`` + optional
    ``annotations.json``), YOLO (``images/``, ``labels/``, ``data.yaml``) or Pascal VOC
    (``JPEGImages/``, ``Annotations/``), told apart by its folders; the snapshotter checks
    every entry (and every VOC XML) first and writes nothing if one is refused."""
    import_id = await imports.request(dataset_id, body.key)
    return ImportAccepted(import_id=import_id, status="queued")


@router.get(
    "/imports/{import_id}",
    response_model=ImportPublic,
    responses=problem_responses(404, 422, 503),
)
async def import_status(import_id: str, imports: ImportsDep, caller: CallerDep) -> ImportPublic:
    """An import's status and report."""
    return public(await imports.status(import_id, caller))
