"""Split plans: read a dataset's live images and work out each one's target split.

A plan (by ratios or by folder) is stored with its command and worked out again when an
expansion resumes: by ratios from the seed, by folder from the paths, so a resumed command
publishes the same targets. Images that already applied the command are left out.
"""

from dataclasses import dataclass
from typing import Any, Final

from assetflow.api.services import Database
from assetflow.contracts.events import Split
from assetflow.domain import splits
from assetflow.readmodel import images
from assetflow.readmodel.images import F

MEMBER_FIELDS: Final = {
    F.BUCKET: 1,
    F.KEY: 1,
    F.DATASET_ID: 1,
    F.PATH: 1,
    F.UPLOADED_AT: 1,
    F.SHA256: 1,
    F.PHASH: 1,
    F.SPLIT: 1,
    F.TAG_COMMANDS: 1,
}


@dataclass(frozen=True, slots=True)
class Members:
    """A dataset's live images: their documents and, in the same order, as ``Member``s."""

    docs: list[dict[str, Any]]
    members: list[splits.Member]


async def read_members(db: Database, dataset_id: str) -> Members:
    """Every live image of the dataset, in path order: O(images), read from one index range."""
    found = (
        db[images.COLLECTION]
        .find({F.DATASET_ID: dataset_id, F.DELETED: False}, MEMBER_FIELDS)
        .hint(images.LISTING_INDEX)
    )
    docs = sorted(await found.to_list(), key=lambda doc: doc[F.PATH])
    members = [
        splits.Member(
            image_id=doc[F.ID],
            path=doc[F.PATH],
            uploaded_at=doc[F.UPLOADED_AT],
            sha256=doc.get(F.SHA256),
            phash=doc.get(F.PHASH),
            split=doc.get(F.SPLIT),
        )
        for doc in docs
    ]
    return Members(docs, members)


def targets(members: Members, plan: dict[str, Any]) -> dict[int, Split]:
    """The split of each member the plan places, by index (by folder: those under a mapped
    folder; by ratios: every one)."""
    if plan["mode"] == "folders":
        mapped = splits.assign_by_folders(members.members, plan["folders"])
        return {i: split for i, split in enumerate(mapped) if split is not None}
    groups = splits.duplicate_groups(members.members, plan.get("k")) if plan["group_aware"] else []
    assigned = splits.assign_by_ratios(
        members.members,
        plan["ratios"],
        plan["seed"],
        groups=groups,
        keep_assigned=plan["keep_assigned"],
    )
    return dict(enumerate(assigned))


async def changes(
    db: Database, dataset_id: str, plan: dict[str, Any], command_id: str
) -> list[tuple[dict[str, Any], Split | None]]:
    """(image document, target split) of every image the plan moves and that has not yet
    applied this command."""
    found = await read_members(db, dataset_id)
    out: list[tuple[dict[str, Any], Split | None]] = []
    for i, target in sorted(targets(found, plan).items()):
        doc = found.docs[i]
        if command_id not in (doc.get(F.TAG_COMMANDS) or ()) and doc.get(F.SPLIT) != target:
            out.append((doc, target))
    return out
