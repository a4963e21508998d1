"""Splits: assignment requests (by ratios, by folder, by hand), counts and the leakage report."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from assetflow.api.schemas.images import ImagePublic
from assetflow.api.schemas.tags import MAX_IDS, Where, present
from assetflow.contracts.events import Split
from assetflow.readmodel.similarity import MAX_DISTANCE

_K = Field(default=6, ge=0, le=MAX_DISTANCE, description="near duplicates: pHash distance in bits")


class Ratios(BaseModel):
    """Shares of the dataset per split; they sum to 1."""

    model_config = ConfigDict(extra="forbid")

    train: float = Field(ge=0, le=1)
    val: float = Field(ge=0, le=1)
    test: float = Field(default=0.0, ge=0, le=1)


class ByRatios(BaseModel):
    """Every live image into train, val or test by ``ratios``: deterministic from ``seed``
    and each image's path, exact to within one group."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["ratios"]
    ratios: Ratios
    seed: str = Field(default="0", max_length=128)
    group_aware: bool = Field(
        default=True,
        description="keep every exact and near-duplicate group (pHash within k) in one split",
    )
    k: int = _K
    keep_assigned: bool = Field(
        default=True,
        description="images already in a split stay (a re-run moves nothing; new images fill "
        "the shares); false: every image is placed afresh from the seed",
    )


class ByFolders(BaseModel):
    """Images under each folder (subfolders too; the deepest mapped folder wins) into its
    split; images under no mapped folder are left as they are."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["folders"]
    folders: dict[Annotated[str, Field(max_length=1024)], Split] = Field(
        min_length=1, max_length=100, description='e.g. {"train": "train", "holdout": "test"}'
    )


class ByHand(BaseModel):
    """Images by ``ids`` (at most 1,000) or every image ``where`` selects into ``split``
    (null: into none), through the same command path as tags."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [present("ids", "array"), present("where", "object")]},
    )

    mode: Literal["manual"]
    split: Split | None
    ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_IDS)
    where: Where | None = None


SplitRequest = Annotated[ByRatios | ByFolders | ByHand, Field(discriminator="mode")]


class SplitCounts(BaseModel):
    """Live images per split, from the exact counters."""

    dataset_id: str
    train: int
    val: int
    test: int
    none: int = Field(description="live images in no split")


class Leak(BaseModel):
    """A duplicate group (exact or near) whose images sit in more than one split."""

    size: int
    splits: dict[str, int] = Field(description="images of the group per split")
    items: list[ImagePublic] = Field(description="the group's images by path, at most 50")


class LeakageReport(BaseModel):
    """Groups that straddle splits; empty when no duplicate is trained and evaluated on."""

    dataset_id: str
    k: int
    groups: int = Field(description="duplicate groups checked (exact and near, merged)")
    leaks: int = Field(description="groups in more than one split")
    items: list[Leak] = Field(description="the leaking groups, largest first, at most 100")
