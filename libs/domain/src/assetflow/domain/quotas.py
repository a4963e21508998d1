"""Dataset quotas: the limits an admin sets, the usage they are checked against, and the checks.

Pure arithmetic over a dataset document (``readmodel.datasets``): the API refuses an upload
that would pass a limit, the indexer reports how far each dataset is from its limits.
Usage is the indexer's exact counters, so it counts what is indexed, not what is in flight.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from assetflow.readmodel import datasets

Kind = Literal["bytes", "images"]
KINDS: Final[tuple[Kind, ...]] = ("bytes", "images")


@dataclass(frozen=True, slots=True)
class Usage:
    """Live bytes and images of a dataset (or what one upload adds to them)."""

    bytes: int = 0
    images: int = 0

    def of(self, kind: Kind) -> int:
        """The amount of ``kind``."""
        return self.bytes if kind == "bytes" else self.images


@dataclass(frozen=True, slots=True)
class Quota:
    """At most ``max_bytes`` and ``max_images`` live in a dataset; None: unlimited."""

    max_bytes: int | None = None
    max_images: int | None = None

    def limit(self, kind: Kind) -> int | None:
        """The limit on ``kind``, None when there is none."""
        return self.max_bytes if kind == "bytes" else self.max_images

    def remaining(self, usage: Usage) -> dict[Kind, int | None]:
        """What may still be added of each kind (0 once over); None where unlimited."""
        out: dict[Kind, int | None] = {}
        for kind in KINDS:
            limit = self.limit(kind)
            out[kind] = None if limit is None else max(0, limit - usage.of(kind))
        return out

    def exceeded_by(self, usage: Usage, added: Usage) -> list[Kind]:
        """The limits that adding ``added`` to ``usage`` would pass.

        An upload that adds nothing of a kind (an overwrite of the same size, a smaller one)
        passes no limit of that kind, even in a dataset already over it: it makes nothing
        worse, and refusing it would keep the dataset from shrinking by overwrites.
        """
        return [
            kind
            for kind in KINDS
            if (limit := self.limit(kind)) is not None
            and added.of(kind) > 0
            and usage.of(kind) + added.of(kind) > limit
        ]

    def ratios(self, usage: Usage) -> dict[Kind, float]:
        """Usage over limit for each kind that has a limit (above 1: over quota; a limit of 0
        with anything in it is infinitely over)."""
        out: dict[Kind, float] = {}
        for kind in KINDS:
            if (limit := self.limit(kind)) is None:
                continue
            used = usage.of(kind)
            out[kind] = used / limit if limit else (math.inf if used else 0.0)
        return out


def quota_of(dataset: Mapping[str, Any]) -> Quota:
    """The quota a dataset document holds (none: unlimited)."""
    stored = dataset.get(datasets.F.QUOTA) or {}
    return Quota(stored.get(datasets.Q.MAX_BYTES), stored.get(datasets.Q.MAX_IMAGES))


def usage_of(dataset: Mapping[str, Any]) -> Usage:
    """A dataset document's exact counters of live bytes and images."""
    return Usage(int(dataset.get(datasets.F.BYTES, 0)), int(dataset.get(datasets.F.IMAGES, 0)))


def upload_adds(size: int, replaced_size: int | None) -> Usage:
    """What an upload of ``size`` bytes adds: one image and its bytes at a new path; at the
    path of a live image of ``replaced_size`` bytes (an overwrite), only the difference."""
    if replaced_size is None:
        return Usage(size, 1)
    return Usage(size - replaced_size, 0)
