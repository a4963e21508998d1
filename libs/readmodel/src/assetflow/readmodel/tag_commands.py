"""The command read model: one document per accepted tag or split request, with its progress.

The API creates the document before it publishes anything, expands a selection into
per-image ``ChangeTags`` or ``ChangeSplit`` messages (``matched`` counts them), and the
indexer adds to
``applied`` / ``refused`` in the same transaction as the images it changes, so progress
is exact under redelivery too.
"""

from datetime import datetime
from typing import Final, Literal, NotRequired, TypedDict

from pymongo import UpdateOne

COLLECTION: Final = "commands"

CommandStatus = Literal["accepted", "running", "done"]
CommandKind = Literal["tags", "split"]


class C:
    """Field names of a command document."""

    ID: Final = "_id"
    DATASET_ID: Final = "dataset_id"
    KIND: Final = "kind"  # absent on commands from before splits: "tags"
    SPLIT: Final = "split"  # a split command's one target split (None: in none), if it has one
    ADD: Final = "add"
    REMOVE: Final = "remove"
    SELECTION: Final = "selection"
    MATCHED: Final = "matched"
    APPLIED: Final = "applied"
    REFUSED: Final = "refused"
    EXPANDED: Final = "expanded"
    RESUME_AFTER: Final = "resume_after"
    LEASE_UNTIL: Final = "lease_until"
    CREATED_AT: Final = "created_at"


class CommandDocument(TypedDict):
    """A command as stored."""

    _id: str
    dataset_id: str
    kind: NotRequired[CommandKind]
    split: NotRequired[str | None]
    add: list[str]
    remove: list[str]
    selection: dict[str, object]
    matched: int
    applied: int
    refused: int
    expanded: bool
    resume_after: list[object] | None
    lease_until: datetime | None
    created_at: datetime


def status_of(doc: CommandDocument) -> CommandStatus:
    """accepted: nothing published yet; running: under way; done: every image processed."""
    processed = doc[C.APPLIED] + doc[C.REFUSED]
    if doc[C.EXPANDED] and processed >= doc[C.MATCHED]:
        return "done"
    if doc[C.MATCHED] == 0 and not doc[C.EXPANDED]:
        return "accepted"
    return "running"


def progress_updates(applied: dict[str, int], refused: dict[str, int]) -> list[UpdateOne]:
    """``$inc`` of each command's progress; a command without a document is left alone."""
    updates = []
    for command_id in sorted(set(applied) | set(refused)):
        inc = {C.APPLIED: applied.get(command_id, 0), C.REFUSED: refused.get(command_id, 0)}
        updates.append(UpdateOne({C.ID: command_id}, {"$inc": inc}))
    return updates
