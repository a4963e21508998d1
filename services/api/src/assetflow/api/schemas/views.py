"""Saved views: a name and the filter it saves."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from assetflow.api.schemas.images import rfc3339_ms
from assetflow.api.schemas.tags import Filter

ViewName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ViewRequest(BaseModel):
    """A view to create, or a view's new name and filter."""

    model_config = ConfigDict(extra="forbid")

    name: ViewName
    where: Filter = Field(default_factory=Filter, description="the filter the view saves")


class ViewPublic(BaseModel):
    """A saved view; open it with ``?view=<id>`` wherever a filter is taken."""

    id: str
    dataset_id: str
    name: str
    where: Filter
    created_at: datetime
    updated_at: datetime
    count: int | None = Field(
        default=None, description="live images it selects now (on GET of one view)"
    )

    @field_serializer("created_at", "updated_at")
    def _rfc3339_utc(self, value: datetime) -> str:
        return rfc3339_ms(value)


class ViewList(BaseModel):
    """A dataset's views by name."""

    items: list[ViewPublic]
