"""Listing filters: parsed and validated once, then turned into index-shaped queries."""

import json
from dataclasses import dataclass
from typing import Any, Literal

from assetflow.common.errors import InvalidRequestError
from assetflow.common.images import F
from assetflow.common.tags import MAX_TAGS_PER_IMAGE, InvalidTagError, normalize_tags

Match = Literal["all", "any"]


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """Which live images of a dataset a listing (or a bulk ``where``) selects."""

    folder: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()
    match: Match = "all"
    untagged: bool = False

    @classmethod
    def parse(
        cls,
        folder: str | None = None,
        status: str | None = None,
        tags: str | list[str] | None = None,
        match: Match = "all",
        untagged: bool = False,
    ) -> "ListingFilter":
        """Validate and normalise; raises InvalidRequestError saying what is wrong."""
        raw = tags.split(",") if isinstance(tags, str) else list(tags or [])
        try:
            normalized = normalize_tags(raw, limit=MAX_TAGS_PER_IMAGE) if raw else []
        except InvalidTagError as exc:
            raise InvalidRequestError(f"tags: {exc}") from None
        if untagged and normalized:
            raise InvalidRequestError("untagged=true cannot be combined with tags")
        folder = folder.strip("/") if folder is not None else None
        return cls(folder, status, tuple(normalized), match, untagged)

    def scope(self) -> list[Any]:
        """The filter as part of a cursor's scope: a cursor works only for its own listing."""
        return [self.folder, self.status, list(self.tags), self.match, self.untagged]

    def as_json(self) -> dict[str, Any]:
        """How a bulk command records its selection."""
        return {
            "folder": self.folder,
            "status": self.status,
            "tags": list(self.tags),
            "match": self.match,
            "untagged": self.untagged,
        }

    def query_parts(self, dataset_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(index prefixes, residual): each prefix matches one listing index's equality part.

        Tags lead when given (the multikey tag index), then folder, then status; the rest
        is checked on the rows that index range yields. ``match=any`` gives one prefix per
        tag, merged by the caller: the embedded engine reads an ``$in`` over the tag index
        without the upload-time bounds (measured: a first page of a 100k-image dataset
        ~1.2 s with ``$in``, ~7 ms per tag as separate ranges); MongoDB would merge the
        same ranges itself.
        """
        prefix: dict[str, Any] = {F.DATASET_ID: dataset_id, F.DELETED: False}
        residual: dict[str, Any] = {}
        if self.untagged:
            # Matches the index entry an empty array gets, on MongoDB and the embedded engine.
            prefix[F.TAGS] = []
        elif len(self.tags) == 1:
            prefix[F.TAGS] = self.tags[0]
        elif self.tags and self.match == "all":
            prefix[F.TAGS] = {"$all": list(self.tags)}
        for field, value in ((F.FOLDER, self.folder), (F.STATUS, self.status)):
            if value is None:
                continue
            if self.tags or F.TAGS in prefix or len(prefix) > 2:
                residual[field] = value
            else:
                prefix[field] = value
        if self.tags and self.match == "any" and len(self.tags) > 1:
            return [prefix | {F.TAGS: tag} for tag in self.tags], residual
        return [prefix], residual


def scope_of(dataset_id: str, listing: ListingFilter) -> str:
    """Name of a listing, so a cursor cannot be replayed against another one."""
    return json.dumps(["images", dataset_id, *listing.scope()])
