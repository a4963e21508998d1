"""A manifest entry as the snapshotter plans it: the stored entry and the image's split."""

from typing import Final

from assetflow.contracts.events import SPLITS, Split
from assetflow.readmodel.snapshots import ManifestEntry

UNASSIGNED: Final = "unassigned"  # where a snapshot with splits puts the images in none
GROUPS: Final = (*SPLITS, UNASSIGNED)  # in archive order


class SnapshotEntry(ManifestEntry):
    """One image as a snapshot holds it, with its split (None: in no split)."""

    split: Split | None = None

    def identity(self) -> bytes:
        """The stored entry's identity, plus the split if the image is in one."""
        # Moving an image changes the content id; without a split the identity (so the id of a
        # dataset without splits) stays what versions built before splits existed have.
        base = super().identity()
        return base if self.split is None else base[:-1] + f"\tsplit:{self.split}\n".encode()

    def group(self) -> str:
        """The split, or ``unassigned``."""
        return self.split or UNASSIGNED
