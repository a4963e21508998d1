"""Webhooks of a dataset (admin only): CRUD, the delivery log, a test ping."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from assetflow.api.deps import AdministeredDataset, WebhooksDep
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.webhooks import (
    DeliveriesPage,
    DeliveryAttempt,
    DeliveryPublic,
    TestDelivery,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
    WebhookUpdate,
)
from assetflow.readmodel.webhooks import D, W

router = APIRouter(prefix="/v1")
_ADMIN = {403: "only an admin may"}
_NO_WEBHOOK = _ADMIN | {404: "no such dataset, or no webhook with this id in it"}
_BAD_URL = {400: "the URL is not http(s), does not resolve, or resolves to a refused address"}


def _public(doc: dict[str, Any]) -> WebhookPublic:
    return WebhookPublic(
        id=doc[W.ID],
        dataset_id=doc[W.DATASET_ID],
        url=doc[W.URL],
        events=doc[W.EVENTS],
        active=doc[W.ACTIVE],
        created_at=doc[W.CREATED_AT],
        updated_at=doc[W.UPDATED_AT],
    )


def _delivery(doc: dict[str, Any]) -> DeliveryPublic:
    pending = doc[D.STATUS] == "pending"
    return DeliveryPublic(
        id=doc[D.ID],
        seq=doc[D.SEQ],
        event=doc[D.EVENT],
        status=doc[D.STATUS],
        attempts=doc[D.ATTEMPTS],
        last_status_code=doc.get(D.LAST_STATUS_CODE),
        last_error=doc.get(D.LAST_ERROR),
        created_at=doc[D.CREATED_AT],
        next_attempt_at=doc[D.NEXT_ATTEMPT_AT] if pending else None,
        finished_at=doc.get(D.FINISHED_AT),
        attempt_log=[
            DeliveryAttempt(
                at=entry["at"],
                status_code=entry["status_code"],
                duration_ms=entry["ms"],
                error=entry["error"],
            )
            for entry in reversed(doc.get(D.LOG) or [])
        ],
    )


@router.post(
    "/datasets/{dataset_id}/webhooks",
    status_code=201,
    response_model=WebhookCreated,
    responses=problem_responses(400, 403, 422, 503, descriptions=_ADMIN | _BAD_URL),
)
async def create_webhook(
    dataset_id: AdministeredDataset, body: WebhookCreate, hooks: WebhooksDep
) -> WebhookCreated:
    """Save a webhook; the answer holds its signing secret, shown this once."""
    doc, secret = await hooks.create(dataset_id, body.url, body.events, body.active, body.secret)
    return WebhookCreated(**_public(doc).model_dump(), secret=secret)


@router.get(
    "/datasets/{dataset_id}/webhooks",
    response_model=WebhookList,
    responses=problem_responses(403, 422, 503, descriptions=_ADMIN),
)
async def list_webhooks(dataset_id: AdministeredDataset, hooks: WebhooksDep) -> WebhookList:
    """The dataset's webhooks, oldest first (without secrets)."""
    return WebhookList(items=[_public(doc) for doc in await hooks.of_dataset(dataset_id)])


@router.get(
    "/datasets/{dataset_id}/webhooks/{webhook_id}",
    response_model=WebhookPublic,
    responses=problem_responses(403, 404, 422, 503, descriptions=_NO_WEBHOOK),
)
async def get_webhook(
    dataset_id: AdministeredDataset, webhook_id: str, hooks: WebhooksDep
) -> WebhookPublic:
    """One webhook (without its secret)."""
    return _public(await hooks.get(dataset_id, webhook_id))


@router.patch(
    "/datasets/{dataset_id}/webhooks/{webhook_id}",
    response_model=WebhookPublic,
    responses=problem_responses(400, 403, 404, 422, 503, descriptions=_NO_WEBHOOK | _BAD_URL),
)
async def update_webhook(
    dataset_id: AdministeredDataset, webhook_id: str, body: WebhookUpdate, hooks: WebhooksDep
) -> WebhookPublic:
    """Change a webhook's URL, event types or active flag (a paused one keeps its queue)."""
    return _public(await hooks.update(dataset_id, webhook_id, body.url, body.events, body.active))


@router.delete(
    "/datasets/{dataset_id}/webhooks/{webhook_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(403, 404, 422, 503, descriptions=_NO_WEBHOOK),
)
async def delete_webhook(
    dataset_id: AdministeredDataset, webhook_id: str, hooks: WebhooksDep
) -> Response:
    """Delete a webhook and its deliveries (pending ones are not sent)."""
    await hooks.delete(dataset_id, webhook_id)
    return Response(status_code=204)


@router.get(
    "/datasets/{dataset_id}/webhooks/{webhook_id}/deliveries",
    response_model=DeliveriesPage,
    responses=problem_responses(403, 404, 422, 503, descriptions=_NO_WEBHOOK),
)
async def list_deliveries(
    dataset_id: AdministeredDataset,
    webhook_id: str,
    hooks: WebhooksDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="a page's next_before")
    ] = None,
) -> DeliveriesPage:
    """The webhook's deliveries, newest first: status, attempts, last answer, times."""
    items, next_before = await hooks.deliveries(dataset_id, webhook_id, limit, before)
    return DeliveriesPage(items=[_delivery(doc) for doc in items], next_before=next_before)


@router.post(
    "/datasets/{dataset_id}/webhooks/{webhook_id}/test",
    status_code=202,
    response_model=TestDelivery,
    responses=problem_responses(403, 404, 422, 503, descriptions=_NO_WEBHOOK),
)
async def test_webhook(
    dataset_id: AdministeredDataset, webhook_id: str, hooks: WebhooksDep
) -> TestDelivery:
    """Queue a signed ``ping`` delivery; follow it in the delivery log."""
    return TestDelivery(delivery_id=await hooks.ping(dataset_id, webhook_id))
