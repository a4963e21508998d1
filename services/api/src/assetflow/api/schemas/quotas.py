"""Dataset quotas: the limits, the usage from the exact counters, and the refusal's problem."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from assetflow.api.schemas.problems import Problem
from assetflow.api.schemas.uploads import _no_bool

QUOTA_EXCEEDED = "tag:assetflow,2026:problems/quota-exceeded"
"""The problem type of a refused upload (a tag URI: a name, not a page to fetch)."""


class QuotaLimits(BaseModel):
    """At most this many live bytes and images in the dataset; null: unlimited."""

    max_bytes: int | None = Field(default=None, ge=0, le=2**53, description="null: unlimited")
    max_images: int | None = Field(default=None, ge=0, le=2**53, description="null: unlimited")

    _numbers = field_validator("max_bytes", "max_images", mode="before")(_no_bool)


class QuotaUsage(BaseModel):
    """The dataset's live bytes and images, from the indexer's exact counters."""

    bytes: int
    images: int


class QuotaRemaining(BaseModel):
    """What may still be uploaded; null where unlimited, 0 once over."""

    bytes: int | None
    images: int | None


class DatasetQuota(BaseModel):
    """A dataset's quota, its usage (what is indexed) and what remains."""

    dataset_id: str
    quota: QuotaLimits
    usage: QuotaUsage
    remaining: QuotaRemaining


class QuotaProblem(Problem):
    """An upload refused because it would take the dataset past its quota."""

    exceeded: list[Literal["bytes", "images"]] = Field(description="the limits it would pass")
    quota: QuotaLimits
    usage: QuotaUsage = Field(description="indexed usage when the upload was refused")
