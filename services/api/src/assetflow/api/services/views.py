"""Saved views: CRUD of named filters per dataset, and resolving ``view=`` into a filter."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from assetflow.api.services import Database
from assetflow.contracts.errors import ConflictError, InvalidRequestError, NotFoundError
from assetflow.readmodel import images, views
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.views import V, ViewDocument


class Views:
    """Saved views of datasets; every method takes the dataset the caller may access."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, dataset_id: str, name: str, where: ListingFilter) -> ViewDocument:
        """A new view; ConflictError when the dataset has a view of that name."""
        if (
            await self._db[views.COLLECTION].count_documents({V.DATASET_ID: dataset_id})
            >= views.MAX_PER_DATASET
        ):
            raise InvalidRequestError(f"a dataset has at most {views.MAX_PER_DATASET} views")
        now = datetime.now(UTC)
        doc: ViewDocument = {
            V.ID: uuid.uuid4().hex,
            V.DATASET_ID: dataset_id,
            V.NAME: name,
            V.WHERE: where.as_json(),
            V.CREATED_AT: now,
            V.UPDATED_AT: now,
        }
        try:
            await self._db[views.COLLECTION].insert_one(dict(doc))
        except DuplicateKeyError:
            raise ConflictError(f"dataset {dataset_id!r} already has a view {name!r}") from None
        return doc

    async def list(self, dataset_id: str) -> list[ViewDocument]:
        """The dataset's views by name."""
        found = self._db[views.COLLECTION].find({V.DATASET_ID: dataset_id}).sort(V.NAME, 1)
        return await found.to_list()  # type: ignore[return-value]

    async def get(self, dataset_id: str, view_id: str) -> ViewDocument:
        """One view of the dataset; NotFoundError otherwise."""
        doc = await self._db[views.COLLECTION].find_one({V.ID: view_id, V.DATASET_ID: dataset_id})
        if doc is None:
            raise NotFoundError(f"dataset {dataset_id!r} has no view {view_id!r}")
        return doc  # type: ignore[return-value]

    async def update(
        self, dataset_id: str, view_id: str, name: str, where: ListingFilter
    ) -> ViewDocument:
        """Rename and/or refilter a view."""
        fields = {V.NAME: name, V.WHERE: where.as_json(), V.UPDATED_AT: datetime.now(UTC)}
        try:
            result = await self._db[views.COLLECTION].update_one(
                {V.ID: view_id, V.DATASET_ID: dataset_id}, {"$set": fields}
            )
        except DuplicateKeyError:
            raise ConflictError(f"dataset {dataset_id!r} already has a view {name!r}") from None
        if result.matched_count == 0:
            raise NotFoundError(f"dataset {dataset_id!r} has no view {view_id!r}")
        return await self.get(dataset_id, view_id)

    async def delete(self, dataset_id: str, view_id: str) -> None:
        """Delete a view; NotFoundError if there is none."""
        result = await self._db[views.COLLECTION].delete_one(
            {V.ID: view_id, V.DATASET_ID: dataset_id}
        )
        if result.deleted_count == 0:
            raise NotFoundError(f"dataset {dataset_id!r} has no view {view_id!r}")

    async def resolve(
        self, dataset_id: str, view_id: str | None, listing: ListingFilter
    ) -> ListingFilter:
        """The filter to use: the view's when one is named (alone), else ``listing``."""
        if view_id is None:
            return listing
        if listing != ListingFilter():
            raise InvalidRequestError("a view is a whole filter: give 'view' or filters, not both")
        doc = await self._db[views.COLLECTION].find_one({V.ID: view_id, V.DATASET_ID: dataset_id})
        if doc is None:  # a filter that names nothing: the request is wrong, not the route
            raise InvalidRequestError(f"dataset {dataset_id!r} has no view {view_id!r}")
        return filter_of(doc)

    async def count(self, dataset_id: str, where: ListingFilter) -> int:
        """Live images the filter selects, counted on the index that serves it."""
        return await self._db[images.COLLECTION].count_documents(
            where.query(dataset_id), hint=where.index()
        )


def filter_of(doc: ViewDocument | dict[str, Any]) -> ListingFilter:
    """A stored view's filter (keys added later take their defaults)."""
    return ListingFilter(**{**doc[V.WHERE], "tags": tuple(doc[V.WHERE].get("tags") or ())})
