"""Listing filters: parsed and validated once, then turned into index-shaped queries."""

import json
from dataclasses import dataclass
from typing import Any, Literal

from assetflow.contracts.errors import InvalidRequestError
from assetflow.contracts.tags import MAX_TAGS_PER_IMAGE, InvalidTagError, normalize_tags
from assetflow.readmodel import images
from assetflow.readmodel.images import F

Match = Literal["all", "any"]
SplitFilter = Literal["train", "val", "test", "none"]
"""A split to select; ``none``: the images in no split."""


@dataclass(frozen=True, slots=True)
class ListingFilter:
    """Which live images of a dataset a listing (or a bulk ``where``) selects."""

    folder: str | None = None
    status: str | None = None
    tags: tuple[str, ...] = ()
    match: Match = "all"
    untagged: bool = False
    split: SplitFilter | None = None
    duplicates: bool = False  # only images another live image has the same bytes as

    @classmethod
    def parse(
        cls,
        folder: str | None = None,
        status: str | None = None,
        tags: str | list[str] | None = None,
        match: Match = "all",
        untagged: bool = False,
        split: SplitFilter | None = None,
        duplicates: bool = False,
    ) -> "ListingFilter":
        """Validate and normalise; raises InvalidRequestError saying what is wrong."""
        raw = tags.split(",") if isinstance(tags, str) else list(tags or [])
        try:
            normalized = normalize_tags(raw, limit=MAX_TAGS_PER_IMAGE) if raw else []
        except InvalidTagError as exc:
            raise InvalidRequestError(f"tags: {exc}") from None
        if untagged and normalized:
            raise InvalidRequestError("untagged=true cannot be combined with tags")
        if split is not None and split not in SPLIT_FILTERS:
            raise InvalidRequestError(f"split must be one of {', '.join(SPLIT_FILTERS)}")
        folder = folder.strip("/") if folder is not None else None
        return cls(folder, status, tuple(normalized), match, untagged, split, duplicates)

    def scope(self) -> list[Any]:
        """The filter as part of a cursor's scope: a cursor works only for its own listing."""
        scope = [self.folder, self.status, list(self.tags), self.match, self.untagged]
        # Filters added later join only when set, so earlier cursors keep their scope.
        if self.split is not None or self.duplicates:
            scope += [self.split, self.duplicates]
        return scope

    def as_json(self) -> dict[str, Any]:
        """How a bulk command records its selection."""
        return {
            "folder": self.folder,
            "status": self.status,
            "tags": list(self.tags),
            "match": self.match,
            "untagged": self.untagged,
            "split": self.split,
            "duplicates": self.duplicates,
        }

    def conditions(self) -> dict[str, Any]:
        """The filter as MongoDB conditions on live images (without the dataset prefix)."""
        found: dict[str, Any] = {}
        if self.untagged:
            # Matches the index entry an image with no tags gets (an empty array).
            found[F.TAGS] = []
        elif len(self.tags) == 1:
            found[F.TAGS] = self.tags[0]
        elif self.tags:
            found[F.TAGS] = {"$all" if self.match == "all" else "$in": list(self.tags)}
        if self.folder is not None:
            found[F.FOLDER] = self.folder
        if self.status is not None:
            found[F.STATUS] = self.status
        if self.split is not None:
            # An image written before splits existed has no field: null matches it too.
            found[F.SPLIT] = None if self.split == "none" else self.split
        if self.duplicates:
            found[F.DUPLICATE] = True
        return found

    def query(self, dataset_id: str) -> dict[str, Any]:
        """The live images of the dataset this filter selects: an equality prefix of a
        listing index (see ``index``)."""
        return {F.DATASET_ID: dataset_id, F.DELETED: False} | self.conditions()

    def index(self) -> str:
        """The listing index whose equality prefix serves this filter, upload order after it.

        Tags lead when given (the multikey tag index: ``$in`` is one range per tag merged in
        order, ``$all`` reads one tag's range and checks the others), else duplicates-only,
        else split, else folder, else status. A second condition (folder and status, tag
        and folder) is checked on the rows of the leading range: such a page reads
        ``limit`` rows divided by the share of the range that matches
        (docs/architecture.md, "Listing").
        """
        if self.tags or self.untagged:
            return images.TAG_INDEX
        if self.duplicates:
            return images.DUPLICATE_INDEX
        if self.split is not None:
            return images.SPLIT_INDEX
        if self.folder is not None:
            return images.FOLDER_INDEX
        if self.status is not None:
            return images.STATUS_INDEX
        return images.LISTING_INDEX

    def matches(self, doc: dict[str, Any]) -> bool:
        """Whether a live image of the dataset is selected by every condition."""
        tags = set(doc.get(F.TAGS) or ())
        if self.untagged and tags:
            return False
        if self.tags:
            wanted = set(self.tags)
            if not (wanted <= tags if self.match == "all" else wanted & tags):
                return False
        if self.folder is not None and doc.get(F.FOLDER) != self.folder:
            return False
        if self.split is not None and doc.get(F.SPLIT) != self.conditions()[F.SPLIT]:
            return False
        if self.duplicates and not doc.get(F.DUPLICATE):
            return False
        return self.status is None or doc.get(F.STATUS) == self.status


SPLIT_FILTERS: tuple[SplitFilter, ...] = ("train", "val", "test", "none")


def scope_of(dataset_id: str, listing: ListingFilter) -> str:
    """Name of a listing, so a cursor cannot be replayed against another one."""
    return json.dumps(["images", dataset_id, *listing.scope()])
