"""Exact denormalized counters: live images, bytes, untagged images, images per status and
per split per dataset, images per (dataset, tag), images per (dataset, folder), shapes and images
per (dataset, label), and images per (dataset, sha256) (``duplicates``).

Counters move only by deltas computed from an image's state before and after a change, and
the indexer writes those deltas in the same transaction as the image, so a counter can never
disagree with the images it counts: a replayed change finds the image already changed (no
delta), a crash aborts both, and concurrent writers conflict and retry.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypedDict

from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.readmodel import datasets, duplicates
from assetflow.readmodel.annotations import L, label_count_id
from assetflow.readmodel.images import COLLECTION, F

TAG_COUNTS: Final = "tag_counts"
FOLDER_COUNTS: Final = "folder_counts"


class T:
    """Field names of a tag counter document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    TAG: Final = "tag"
    COUNT: Final = "count"


class TagCountDocument(TypedDict):
    """How many live images of a dataset carry a tag (kept at 0 when none do)."""

    _id: str
    dataset_id: str
    tag: str
    count: int


INDEXES: Final = (IndexModel([(T.DATASET_ID, ASCENDING), (T.COUNT, ASCENDING)], name="by_dataset"),)


class FC:
    """Field names of a folder counter document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    FOLDER: Final = "folder"
    COUNT: Final = "count"


FOLDER_INDEXES: Final = (
    IndexModel([(FC.DATASET_ID, ASCENDING), (FC.FOLDER, ASCENDING)], name="by_dataset"),
)


def tag_count_id(dataset_id: str, tag: str) -> str:
    """Id of a (dataset, tag) counter, and of a (dataset, folder) one; a dataset id never
    contains '/', so it is unambiguous."""
    return f"{dataset_id}/{tag}"


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one live image adds to its dataset's counters."""

    dataset_id: str
    size: int
    tags: frozenset[str]
    status: str
    labels: frozenset[tuple[str, int]] = frozenset()  # (label, shapes)
    folder: str = ""
    sha256: str | None = None  # None until the thumbnailer reports on this version
    split: str | None = None


@dataclass
class CounterDeltas:
    """Counter changes accumulated over a batch of image state changes."""

    images: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    untagged: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    splits: Counter[tuple[str, str]] = field(default_factory=Counter)
    tags: Counter[tuple[str, str]] = field(default_factory=Counter)
    folders: Counter[tuple[str, str]] = field(default_factory=Counter)
    label_shapes: Counter[tuple[str, str]] = field(default_factory=Counter)
    label_images: Counter[tuple[str, str]] = field(default_factory=Counter)
    sha256s: Counter[tuple[str, str]] = field(default_factory=Counter)

    def move(self, before: Contribution | None, after: Contribution | None) -> None:
        """Account for one image going from ``before`` to ``after`` (None: not live)."""
        if before == after:
            return
        for contribution, sign in ((before, -1), (after, 1)):
            if contribution is None:
                continue
            dataset = contribution.dataset_id
            self.images[dataset] += sign
            self.bytes[dataset] += sign * contribution.size
            if not contribution.tags:
                self.untagged[dataset] += sign
            self.statuses[dataset, contribution.status] += sign
            if contribution.split is not None:
                self.splits[dataset, contribution.split] += sign
            self.folders[dataset, contribution.folder] += sign
            for tag in contribution.tags:
                self.tags[dataset, tag] += sign
            for label, shapes in contribution.labels:
                self.label_shapes[dataset, label] += sign * shapes
                self.label_images[dataset, label] += sign
            if contribution.sha256 is not None:
                self.sha256s[dataset, contribution.sha256] += sign

    def dataset_updates(self, now: datetime | None = None) -> list[UpdateOne]:
        """One upsert per dataset whose counters moved (``$inc``), stamping ``updated_at``."""
        names = set(self.images) | set(self.bytes) | set(self.untagged)
        names |= {dataset for dataset, _ in self.statuses} | {dataset for dataset, _ in self.splits}
        updates = []
        for dataset in sorted(names):
            inc = {
                datasets.F.IMAGES: self.images[dataset],
                datasets.F.BYTES: self.bytes[dataset],
                datasets.F.UNTAGGED: self.untagged[dataset],
            }
            for (name, status), delta in self.statuses.items():
                if name == dataset:
                    inc[f"{datasets.F.STATUSES}.{status}"] = delta
            for (name, split), delta in self.splits.items():
                if name == dataset:
                    inc[f"{datasets.F.SPLITS}.{split}"] = delta
            inc = {name: value for name, value in inc.items() if value}
            if not inc:
                continue
            update: dict[str, Any] = {"$inc": inc}
            if now is not None:
                update["$max"] = {datasets.F.UPDATED_AT: now}
            updates.append(UpdateOne({datasets.F.ID: dataset}, update, upsert=True))
        return updates

    def tag_updates(self) -> list[UpdateOne]:
        """One ``$inc`` upsert per (dataset, tag) whose count moved."""
        return _inc_upserts(self.tags, T.TAG)

    def folder_updates(self) -> list[UpdateOne]:
        """One ``$inc`` upsert per (dataset, folder) whose count moved."""
        return _inc_upserts(self.folders, FC.FOLDER)

    def sha256_updates(self) -> list[UpdateOne]:
        """One ``$inc`` upsert per (dataset, sha256) whose count moved."""
        return duplicates.inc_updates(self.sha256s)

    def label_updates(self) -> list[UpdateOne]:
        """One ``$inc`` upsert per (dataset, label) whose shape or image count moved."""
        keys = sorted(set(self.label_shapes) | set(self.label_images))
        updates = []
        for dataset, label in keys:
            inc = {L.SHAPES: self.label_shapes[dataset, label]}
            inc[L.IMAGES] = self.label_images[dataset, label]
            inc = {name: value for name, value in inc.items() if value}
            if inc:
                updates.append(
                    UpdateOne(
                        {L.ID: label_count_id(dataset, label)},
                        {"$inc": inc, "$setOnInsert": {L.DATASET_ID: dataset, L.LABEL: label}},
                        upsert=True,
                    )
                )
        return updates


def contribution(doc: dict[str, Any] | None) -> Contribution | None:
    """An image document's contribution, or None if it is absent or deleted."""
    if doc is None or doc.get(F.DELETED, True):
        return None
    tags = frozenset(doc.get(F.TAGS) or ())
    status = doc.get(F.STATUS) or "pending"
    labels = frozenset((row["label"], int(row["shapes"])) for row in doc.get(F.LABELS) or ())
    size = int(doc.get(F.SIZE) or 0)
    folder = doc.get(F.FOLDER) or ""
    sha256 = doc.get(F.SHA256)
    split = doc.get(F.SPLIT)
    return Contribution(doc[F.DATASET_ID], size, tags, status, labels, folder, sha256, split)


@dataclass(frozen=True)
class DatasetCounts:
    """A dataset's counters: live images, their bytes, untagged images, images per tag,
    status, split and folder."""

    images: int = 0
    bytes: int = 0
    untagged: int = 0
    tags: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    folders: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)

    def drift(self, truth: "DatasetCounts") -> dict[str, int]:
        """Every counter that differs from ``truth``, as (stored - truth); tags as 'tag:<t>',
        folders as 'folder:<f>'."""
        out = {
            name: getattr(self, name) - getattr(truth, name)
            for name in ("images", "bytes", "untagged")
            if getattr(self, name) != getattr(truth, name)
        }
        for status in sorted(set(self.statuses) | set(truth.statuses)):
            if (delta := self.statuses.get(status, 0) - truth.statuses.get(status, 0)) != 0:
                out[f"status:{status}"] = delta
        for split in sorted(set(self.splits) | set(truth.splits)):
            if (delta := self.splits.get(split, 0) - truth.splits.get(split, 0)) != 0:
                out[f"split:{split}"] = delta
        for tag in sorted(set(self.tags) | set(truth.tags)):
            if (delta := self.tags.get(tag, 0) - truth.tags.get(tag, 0)) != 0:
                out[f"tag:{tag}"] = delta
        for folder in sorted(set(self.folders) | set(truth.folders)):
            if (delta := self.folders.get(folder, 0) - truth.folders.get(folder, 0)) != 0:
                out[f"folder:{folder}"] = delta
        return out


Db = AsyncDatabase[dict[str, Any]]


async def stored_counts(
    db: Db,
    dataset_id: str,
    session: AsyncClientSession | None = None,
    *,
    folders: bool = False,
) -> DatasetCounts:
    """The counters as kept: O(number of tags (and folders)), no image is read."""
    dataset = await db[datasets.COLLECTION].find_one({datasets.F.ID: dataset_id}, session=session)
    tag_docs = db[TAG_COUNTS].find({T.DATASET_ID: dataset_id}, session=session)
    tags = {doc[T.TAG]: int(doc[T.COUNT]) async for doc in tag_docs}
    per_folder = await stored_folders(db, dataset_id, session) if folders else None
    return counts_of(dataset or {}, tags, per_folder)


async def stored_folders(
    db: Db, dataset_id: str, session: AsyncClientSession | None = None
) -> dict[str, int]:
    """Live images per folder (each folder's own, not its subfolders'), by folder name."""
    found = db[FOLDER_COUNTS].find({FC.DATASET_ID: dataset_id}, session=session)
    folders = {doc[FC.FOLDER]: int(doc[FC.COUNT]) async for doc in found.sort(FC.FOLDER, 1)}
    return {folder: n for folder, n in folders.items() if n}


def counts_of(
    dataset: dict[str, Any],
    tags: dict[str, int] | None = None,
    folders: dict[str, int] | None = None,
) -> DatasetCounts:
    """The counters held by a dataset document (and its tag and folder counters, if read)."""
    statuses = dataset.get(datasets.F.STATUSES) or {}
    splits = dataset.get(datasets.F.SPLITS) or {}
    return DatasetCounts(
        images=int(dataset.get(datasets.F.IMAGES, 0)),
        bytes=int(dataset.get(datasets.F.BYTES, 0)),
        untagged=int(dataset.get(datasets.F.UNTAGGED, 0)),
        tags={tag: count for tag, count in (tags or {}).items() if count},
        statuses={status: int(n) for status, n in statuses.items() if n},
        folders=dict(folders or {}),
        splits={split: int(n) for split, n in splits.items() if n},
    )


async def recount(
    db: Db, dataset_id: str, session: AsyncClientSession | None = None
) -> DatasetCounts:
    """The truth, computed from the live images: O(images); for reconcile and checks only."""
    live = {"$match": {F.DATASET_ID: dataset_id, F.DELETED: False}}
    tags_size = {"$size": {"$ifNull": [f"${F.TAGS}", []]}}
    totals: list[dict[str, Any]] = [
        live,
        {
            "$group": {
                "_id": None,
                "images": {"$sum": 1},
                "bytes": {"$sum": f"${F.SIZE}"},
                "untagged": {"$sum": {"$cond": [{"$eq": [tags_size, 0]}, 1, 0]}},
            }
        },
    ]
    per_tag: list[dict[str, Any]] = [
        live,
        {"$unwind": f"${F.TAGS}"},
        {"$group": {"_id": f"${F.TAGS}", "count": {"$sum": 1}}},
    ]
    images = db[COLLECTION]
    rows = await (await images.aggregate(totals, session=session)).to_list()
    row: dict[str, Any] = rows[0] if rows else {}
    tags = {
        doc["_id"]: int(doc["count"])
        async for doc in await images.aggregate(per_tag, session=session)
    }
    per_status: list[dict[str, Any]] = [
        live,
        {"$group": {"_id": f"${F.STATUS}", "count": {"$sum": 1}}},
    ]
    statuses = {
        doc["_id"] or "pending": int(doc["count"])
        async for doc in await images.aggregate(per_status, session=session)
    }
    per_folder: list[dict[str, Any]] = [
        live,
        {"$group": {"_id": f"${F.FOLDER}", "count": {"$sum": 1}}},
    ]
    folders = {
        doc["_id"] or "": int(doc["count"])
        async for doc in await images.aggregate(per_folder, session=session)
    }
    per_split: list[dict[str, Any]] = [
        {"$match": {F.DATASET_ID: dataset_id, F.DELETED: False, F.SPLIT: {"$type": "string"}}},
        {"$group": {"_id": f"${F.SPLIT}", "count": {"$sum": 1}}},
    ]
    splits = {
        doc["_id"]: int(doc["count"])
        async for doc in await images.aggregate(per_split, session=session)
    }
    return DatasetCounts(
        images=int(row.get("images", 0)),
        bytes=int(row.get("bytes", 0)),
        untagged=int(row.get("untagged", 0)),
        tags=tags,
        statuses=statuses,
        folders=folders,
        splits=splits,
    )


def repair_updates(
    dataset_id: str, stored: DatasetCounts, truth: DatasetCounts
) -> tuple[list[UpdateOne], list[UpdateOne], list[UpdateOne]]:
    """Writes that set every drifted counter to the truth: (dataset, tag, folder updates)."""
    dataset_ops = []
    stored_totals = (stored.images, stored.bytes, stored.untagged, stored.statuses, stored.splits)
    if stored_totals != (truth.images, truth.bytes, truth.untagged, truth.statuses, truth.splits):
        fields = {
            datasets.F.IMAGES: truth.images,
            datasets.F.BYTES: truth.bytes,
            datasets.F.UNTAGGED: truth.untagged,
            datasets.F.STATUSES: truth.statuses,
            datasets.F.SPLITS: truth.splits,
        }
        dataset_ops.append(UpdateOne({datasets.F.ID: dataset_id}, {"$set": fields}, upsert=True))
    tag_ops = _set_upserts(dataset_id, stored.tags, truth.tags, T.TAG)
    folder_ops = _set_upserts(dataset_id, stored.folders, truth.folders, FC.FOLDER)
    return dataset_ops, tag_ops, folder_ops


# Tag and folder counters share one shape: _id "<dataset>/<name>", dataset_id, the name, count.
def _inc_upserts(deltas: Counter[tuple[str, str]], name_field: str) -> list[UpdateOne]:
    """One ``$inc`` upsert per (dataset, name) counter whose count moved."""
    return [
        UpdateOne(
            {T.ID: tag_count_id(dataset, name)},
            {"$inc": {T.COUNT: delta}, "$setOnInsert": {T.DATASET_ID: dataset, name_field: name}},
            upsert=True,
        )
        for (dataset, name), delta in sorted(deltas.items())
        if delta
    ]


def _set_upserts(
    dataset_id: str, stored: dict[str, int], truth: dict[str, int], name_field: str
) -> list[UpdateOne]:
    """One upsert setting each (dataset, name) counter that differs from ``truth``."""
    return [
        UpdateOne(
            {T.ID: tag_count_id(dataset_id, name)},
            {"$set": {T.COUNT: truth.get(name, 0), T.DATASET_ID: dataset_id, name_field: name}},
            upsert=True,
        )
        for name in sorted(set(stored) | set(truth))
        if stored.get(name, 0) != truth.get(name, 0)
    ]
