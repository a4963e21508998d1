"""Dataset quotas: an admin sets the limits; readers see them with the usage they apply to."""

from fastapi import APIRouter

from assetflow.api.deps import AdministeredDataset, QuotasDep, ReadableDataset
from assetflow.api.problems import problem_responses
from assetflow.api.schemas.quotas import DatasetQuota, QuotaLimits, QuotaRemaining, QuotaUsage
from assetflow.domain.quotas import Quota, Usage

router = APIRouter(prefix="/v1")
_ERRORS = problem_responses(404, 422, 503)


def to_public(dataset_id: str, quota: Quota, usage: Usage) -> DatasetQuota:
    """A quota with its usage and what remains, as the API shows them."""
    remaining = quota.remaining(usage)
    return DatasetQuota(
        dataset_id=dataset_id,
        quota=QuotaLimits(max_bytes=quota.max_bytes, max_images=quota.max_images),
        usage=QuotaUsage(bytes=usage.bytes, images=usage.images),
        remaining=QuotaRemaining(bytes=remaining["bytes"], images=remaining["images"]),
    )


@router.get("/datasets/{dataset_id}/quota", response_model=DatasetQuota, responses=_ERRORS)
async def get_quota(dataset_id: ReadableDataset, quotas: QuotasDep) -> DatasetQuota:
    """The dataset's quota, its indexed usage (exact counters) and what remains."""
    return to_public(dataset_id, *await quotas.get(dataset_id))


@router.put(
    "/datasets/{dataset_id}/quota",
    response_model=DatasetQuota,
    responses=problem_responses(
        400,
        403,
        404,
        422,
        503,
        descriptions={400: "the body is not JSON", 403: "only an admin may"},
    ),
)
async def put_quota(
    dataset_id: AdministeredDataset, body: QuotaLimits, quotas: QuotasDep
) -> DatasetQuota:
    """Set the dataset's limits (admin only; null: unlimited). Objects already over stay:
    uploads past the limits are refused, and the indexer reports the dataset as over."""
    quota = Quota(max_bytes=body.max_bytes, max_images=body.max_images)
    return to_public(dataset_id, *await quotas.set(dataset_id, quota))
