"""Curation queries: exact-duplicate groups from the sha256 counters, near duplicates
through the pHash band index, a dataset's near-duplicate clusters, split counts and the
split leakage report."""

import asyncio
from dataclasses import dataclass
from typing import Any, Final

from assetflow.api.observability import count_item_urls
from assetflow.api.services import Database, split_plans
from assetflow.api.services.items import signers, to_public
from assetflow.api.services.listing import PROJECTION, get_image, get_images
from assetflow.api.settings import ApiOptions
from assetflow.contracts.errors import NotFoundError
from assetflow.contracts.events import SPLITS
from assetflow.domain import splits
from assetflow.domain.clusters import hashes_from_hex, near_duplicate_clusters
from assetflow.readmodel import counters, duplicates, images, similarity
from assetflow.readmodel.duplicates import D
from assetflow.readmodel.images import F
from assetflow.storage.presign import Presigner

GROUP_ITEMS: Final = 50
"""Images listed per duplicate group (its count is always exact)."""
MAX_LEAKS: Final = 100
"""Leaking groups a report lists (it counts them all)."""


@dataclass(frozen=True, slots=True)
class GroupsPage:
    """Duplicate groups as API JSON, and the (count, sha256) to continue after (None: last)."""

    groups: list[dict[str, Any]]
    next_after: tuple[int, str] | None


class Curation:
    """Reads the sha256 counters and the images they count, and signs their URLs."""

    def __init__(self, db: Database, presigner: Presigner, options: ApiOptions) -> None:
        self._db = db
        self._presigner = presigner
        self._options = options

    async def duplicates(
        self, dataset_id: str, after: tuple[int, str] | None, limit: int
    ) -> GroupsPage:
        """Up to ``limit`` groups of live images sharing a sha256, largest first.

        One range of the counters' ``groups`` index (only counts >= 2 are in it), then one
        ``by_sha256`` index range per group for its first images by path.
        """
        found = (
            self._db[duplicates.COLLECTION]
            .find(duplicates.groups_query(dataset_id, after))
            .sort(duplicates.GROUP_ORDER)
            .hint(duplicates.GROUPS_INDEX)
            .limit(limit + 1)
        )
        counted = await found.to_list()
        more, counted = len(counted) > limit, counted[:limit]
        members = await asyncio.gather(
            *(self._members(dataset_id, doc[D.SHA256]) for doc in counted)
        )
        sign, sign_rendition = signers(self._presigner, self._options)
        groups = []
        for doc, docs in zip(counted, members, strict=True):
            items = [to_public(image, sign, sign_rendition) for image in docs]
            count_item_urls(items)
            groups.append({"sha256": doc[D.SHA256], "count": int(doc[D.COUNT]), "items": items})
        next_after = None
        if more and counted:
            next_after = (int(counted[-1][D.COUNT]), str(counted[-1][D.SHA256]))
        return GroupsPage(groups, next_after)

    async def _members(self, dataset_id: str, sha256: str) -> list[dict[str, Any]]:
        query = {F.DATASET_ID: dataset_id, F.DELETED: False, F.SHA256: sha256}
        found = (
            self._db[images.COLLECTION]
            .find(query, PROJECTION)
            .sort(F.PATH, 1)
            .hint(images.SHA256_INDEX)
            .limit(GROUP_ITEMS)
        )
        return await found.to_list()

    async def similar(self, image_id: str, k: int, limit: int) -> tuple[str | None, list[Any]]:
        """The image's pHash, and up to ``limit`` other live images of its dataset within
        Hamming distance ``k`` of it, nearest first (then by id), with ``distance``.

        Candidates are the images sharing a probed band key (``similarity.probe_keys``), read
        from the ``similar`` index alone (a covered read: hash and id are in it), never the
        whole dataset; each is then verified, and only the matches' documents are fetched.
        """
        doc = await get_image(self._db, image_id)
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        phash = doc.get(F.PHASH)
        if not phash:
            return None, []
        query = {
            F.DATASET_ID: doc[F.DATASET_ID],
            F.DELETED: False,
            F.PHASH_BANDS: {"$in": similarity.probe_keys(phash, k)},
        }
        found = self._db[images.COLLECTION].find(query, {F.PHASH: 1})
        near = []
        async for candidate in found.hint(images.SIMILAR_INDEX):
            if candidate[F.ID] == image_id or not candidate.get(F.PHASH):
                continue
            distance = similarity.hamming(phash, candidate[F.PHASH])
            if distance <= k:
                near.append((distance, candidate[F.ID]))
        near = sorted(near)[:limit]
        docs = {d[F.ID]: d for d in await get_images(self._db, [i for _, i in near])}
        sign, sign_rendition = signers(self._presigner, self._options)
        items = [
            to_public(docs[i], sign, sign_rendition) | {"distance": distance}
            for distance, i in near
            if i in docs  # deleted between the two reads
        ]
        count_item_urls(items)
        return phash, items

    async def clusters(
        self, dataset_id: str, k: int, offset: int, limit: int
    ) -> tuple[int, int, list[dict[str, Any]]]:
        """(clusters, images in them, the page's clusters as API JSON): every live image's
        pHash read once, then clustered in memory (``clusters.near_duplicate_clusters``)."""
        found = self._db[images.COLLECTION].find(
            {F.DATASET_ID: dataset_id, F.DELETED: False, F.PHASH: {"$type": "string"}},
            {F.PHASH: 1, F.PATH: 1},
        )
        rows = sorted(await found.hint(images.LISTING_INDEX).to_list(), key=lambda d: d[F.PATH])
        found_clusters = near_duplicate_clusters(hashes_from_hex([r[F.PHASH] for r in rows]), k)
        page = found_clusters[offset : offset + limit]
        items = await self._as_items([[rows[i][F.ID] for i in c[:GROUP_ITEMS]] for c in page])
        out = [{"size": len(c), "items": group} for c, group in zip(page, items, strict=True)]
        return len(found_clusters), sum(len(c) for c in found_clusters), out

    async def split_counts(self, dataset_id: str) -> dict[str, int]:
        """Live images per split (and in none) from the exact counters."""
        counts = await counters.stored_counts(self._db, dataset_id)
        per_split = {split: counts.splits.get(split, 0) for split in SPLITS}
        return per_split | {"none": counts.images - sum(per_split.values())}

    async def leakage(self, dataset_id: str, k: int) -> tuple[int, int, list[dict[str, Any]]]:
        """(groups checked, groups leaking, the largest leaks as API JSON): exact and near
        groups merged, each checked for images in two or more splits."""
        found = await split_plans.read_members(self._db, dataset_id)
        groups = splits.duplicate_groups(found.members, k)
        leaks = splits.leakage(found.members, groups)
        shown = leaks[:MAX_LEAKS]
        ids = [[found.members[i].image_id for i in leak.members[:GROUP_ITEMS]] for leak in shown]
        items = await self._as_items(ids)
        out = [
            {"size": len(leak.members), "splits": leak.splits, "items": group}
            for leak, group in zip(shown, items, strict=True)
        ]
        return len(groups), len(leaks), out

    async def _as_items(self, groups: list[list[str]]) -> list[list[dict[str, Any]]]:
        """Each group's live images as API items, in the group's order."""
        docs = {d[F.ID]: d for d in await get_images(self._db, [i for g in groups for i in g])}
        sign, sign_rendition = signers(self._presigner, self._options)
        out = []
        for group in groups:
            items = [to_public(docs[i], sign, sign_rendition) for i in group if i in docs]
            count_item_urls(items)
            out.append(items)
        return out
