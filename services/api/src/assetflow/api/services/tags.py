"""Tag counts, and tag and split commands: validate, record, expand the selection into
per-image messages.

Every command is expanded the same way: a selection (ids, or a listing filter) is read page
by page through the indexes, each page's ``ChangeTags`` (or ``ChangeSplit``) messages are
published and acknowledged, and only then is the page's progress (``matched`` and where to
resume) recorded. A crash re-publishes at most one page; the indexer skips a command an image
has already applied, so nothing is counted twice. A split plan (by ratios or folder) is
worked out whole (``split_plans``) and its changes published a page at a time.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from assetflow.api.auth import require_visible
from assetflow.api.cursor import Position
from assetflow.api.publishing import Publisher
from assetflow.api.schemas.tags import MAX_WHERE_IMAGES
from assetflow.api.services import Database, split_plans
from assetflow.api.services.listing import list_images
from assetflow.contracts.errors import BrokerUnavailableError, InvalidRequestError, NotFoundError
from assetflow.contracts.events import ChangeSplit, ChangeTags, Split
from assetflow.contracts.tags import (
    MAX_TAGS_PER_IMAGE,
    InvalidTagError,
    changed_tags,
    normalize_tags,
)
from assetflow.domain.tokens import Permissions
from assetflow.readmodel import counters, images
from assetflow.readmodel import tag_commands as commands
from assetflow.readmodel.filters import ListingFilter
from assetflow.readmodel.images import F
from assetflow.readmodel.tag_commands import C

log = logging.getLogger(__name__)

SERVICE = "api"
PAGE = 500
LEASE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class TagChange:
    """A validated change: normalised tags to add and to remove."""

    add: list[str]
    remove: list[str]

    @classmethod
    def parse(cls, add: Sequence[str], remove: Sequence[str]) -> "TagChange":
        """Normalise both lists; raises InvalidRequestError saying what is wrong."""
        try:
            to_add, to_remove = normalize_tags(add), normalize_tags(remove)
        except InvalidTagError as exc:
            raise InvalidRequestError(str(exc)) from None
        if not to_add and not to_remove:
            raise InvalidRequestError("nothing to change: 'add' and 'remove' are both empty")
        return cls(to_add, to_remove)


NO_CHANGE: Final = TagChange([], [])
"""A split command's (empty) tag change."""


@dataclass
class Tagging:
    """Accepts tag commands and runs their expansion (inline, or in the background)."""

    db: Database
    publisher: Publisher
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def change_image(self, image_id: str, change: TagChange) -> str:
        """PATCH of one image; returns the command id once its message is durable."""
        doc = await self.db[images.COLLECTION].find_one(
            {F.ID: image_id, F.DELETED: False}, {F.DATASET_ID: 1, F.TAGS: 1}
        )
        if doc is None:
            raise NotFoundError(f"no image with id {image_id!r}")
        if len(changed_tags(doc.get(F.TAGS) or [], change.add, change.remove)) > MAX_TAGS_PER_IMAGE:
            raise InvalidRequestError(f"an image has at most {MAX_TAGS_PER_IMAGE} tags")
        return await self._run_inline(doc[F.DATASET_ID], change, {"ids": [image_id]})

    async def change_ids(self, dataset_id: str, change: TagChange, ids: list[str]) -> str:
        """Bulk by ids (at most 1,000); returns once every message is durable."""
        return await self._run_inline(dataset_id, change, {"ids": sorted(set(ids))})

    async def change_where(self, dataset_id: str, change: TagChange, where: ListingFilter) -> str:
        """Bulk by listing filter; returns at once, the selection is expanded in the background."""
        return await self._run_background(dataset_id, change, {"where": where.as_json()})

    async def status(self, command_id: str) -> commands.CommandDocument:
        """A command's document; raises NotFoundError."""
        doc = await self.db[commands.COLLECTION].find_one({C.ID: command_id})
        if doc is None:
            raise NotFoundError(f"no command with id {command_id!r}")
        return doc  # type: ignore[return-value]

    async def visible_status(
        self, command_id: str, caller: Permissions
    ) -> commands.CommandDocument:
        """A command's document; 404 if none, or the caller cannot see its dataset."""
        doc = await self.status(command_id)
        require_visible(caller, doc[C.DATASET_ID], f"command {command_id!r}")
        return doc

    async def counts(self, dataset_id: str) -> counters.DatasetCounts:
        """A dataset's tag counters as the indexer keeps them: O(number of tags)."""
        return await counters.stored_counts(self.db, dataset_id)

    async def _run_inline(
        self,
        dataset_id: str,
        change: TagChange,
        selection: dict[str, Any],
        kind: commands.CommandKind = "tags",
        split: Split | None = None,
    ) -> str:
        command_id = await self._record(dataset_id, change, selection, kind, split)
        try:
            await self.expand(command_id)
        except BrokerUnavailableError:
            # Not accepted (503): drop the record so no sweeper finishes it behind the
            # client's back. A message that did reach Kafka still applies; a retry by the
            # client converges to the same tags.
            await self.db[commands.COLLECTION].delete_one({C.ID: command_id})
            raise
        return command_id

    async def _run_background(
        self,
        dataset_id: str,
        change: TagChange,
        selection: dict[str, Any],
        kind: commands.CommandKind = "tags",
        split: Split | None = None,
    ) -> str:
        command_id = await self._record(dataset_id, change, selection, kind, split)
        self.spawn(command_id)
        return command_id

    async def move_ids(self, dataset_id: str, split: Split | None, ids: list[str]) -> str:
        """Put images (by id, at most 1,000) in a split; returns once every message is durable."""
        return await self._run_inline(
            dataset_id, NO_CHANGE, {"ids": sorted(set(ids))}, kind="split", split=split
        )

    async def move_where(self, dataset_id: str, split: Split | None, where: ListingFilter) -> str:
        """Put every image a filter selects in a split; expanded in the background."""
        selection = {"where": where.as_json()}
        return await self._run_background(dataset_id, NO_CHANGE, selection, "split", split)

    async def move_by_plan(self, dataset_id: str, plan: dict[str, Any]) -> str:
        """Assign splits by a plan (``split_plans``); worked out and published in the background."""
        return await self._run_background(dataset_id, NO_CHANGE, {"plan": plan}, "split")

    async def _record(
        self,
        dataset_id: str,
        change: TagChange,
        selection: dict[str, Any],
        kind: commands.CommandKind = "tags",
        split: Split | None = None,
    ) -> str:
        command_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        doc: commands.CommandDocument = {
            C.ID: command_id,
            C.DATASET_ID: dataset_id,
            C.KIND: kind,
            C.SPLIT: split,
            C.ADD: change.add,
            C.REMOVE: change.remove,
            C.SELECTION: selection,
            C.MATCHED: 0,
            C.APPLIED: 0,
            C.REFUSED: 0,
            C.EXPANDED: False,
            C.RESUME_AFTER: None,
            C.LEASE_UNTIL: now + LEASE,
            C.CREATED_AT: now,
        }
        await self.db[commands.COLLECTION].insert_one(dict(doc))
        return command_id

    def spawn(self, command_id: str) -> None:
        """Expand in the background; a failure leaves the lease to expire for a retry."""
        task = asyncio.create_task(self._expand_logged(command_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _expand_logged(self, command_id: str) -> None:
        try:
            await self.expand(command_id)
        except Exception:
            log.exception("tag command expansion failed; it resumes when its lease expires")

    async def expand(self, command_id: str) -> None:
        """Publish the command's remaining pages, recording progress after each one."""
        doc = await self.status(command_id)
        selection: dict[str, Any] = doc[C.SELECTION]
        if "plan" in selection:
            await self._expand_plan(doc)
            return
        message = _messages(doc)
        after = _position(doc[C.RESUME_AFTER])
        matched = doc[C.MATCHED]
        while True:
            if "ids" in selection:
                page, more = await self._ids_page(doc[C.DATASET_ID], selection["ids"]), False
            else:
                listing = ListingFilter(**selection["where"])
                limit = min(PAGE, MAX_WHERE_IMAGES - matched)
                result = await list_images(self.db, doc[C.DATASET_ID], listing, after, limit)
                page, more = result.docs, result.more and matched + limit < MAX_WHERE_IMAGES
                if page:
                    last = page[-1]
                    after = Position(last[F.UPLOADED_AT], last[F.ID])
            await self.publisher.publish([message(d) for d in page])
            matched += len(page)
            await self.db[commands.COLLECTION].update_one(
                {C.ID: command_id},
                {
                    "$set": {
                        C.MATCHED: matched,
                        C.RESUME_AFTER: _stored(after),
                        C.EXPANDED: not more,
                        C.LEASE_UNTIL: datetime.now(UTC) + LEASE,
                    }
                },
            )
            if not more:
                return

    async def _expand_plan(self, doc: commands.CommandDocument) -> None:
        """Work the plan out, record how many images it moves (once), publish a page at a
        time; a resumed expansion works it out again and skips what was applied."""
        command_id, dataset_id = doc[C.ID], doc[C.DATASET_ID]
        plan: dict[str, Any] = doc[C.SELECTION]["plan"]  # type: ignore[assignment]
        moves = await split_plans.changes(self.db, dataset_id, plan, command_id)
        if not doc[C.RESUME_AFTER]:
            await self.db[commands.COLLECTION].update_one(
                {C.ID: command_id}, {"$set": {C.MATCHED: len(moves), C.RESUME_AFTER: [0]}}
            )
        for start in range(0, len(moves), PAGE):
            page = moves[start : start + PAGE]
            await self.publisher.publish(
                [_split_message(command_id, image, split) for image, split in page]
            )
            await self.db[commands.COLLECTION].update_one(
                {C.ID: command_id}, {"$set": {C.LEASE_UNTIL: datetime.now(UTC) + LEASE}}
            )
        await self.db[commands.COLLECTION].update_one(
            {C.ID: command_id}, {"$set": {C.EXPANDED: True}}
        )

    async def _ids_page(self, dataset_id: str, ids: list[str]) -> list[dict[str, Any]]:
        query = {F.ID: {"$in": ids}, F.DATASET_ID: dataset_id, F.DELETED: False}
        found = self.db[images.COLLECTION].find(query, {F.BUCKET: 1, F.KEY: 1, F.DATASET_ID: 1})
        return await found.to_list()

    async def resume_orphans(self) -> int:
        """Claim every unexpanded command whose lease expired (its expander died); resume it."""
        claimed = 0
        while True:
            now = datetime.now(UTC)
            doc = await self.db[commands.COLLECTION].find_one_and_update(
                {C.EXPANDED: False, C.LEASE_UNTIL: {"$lt": now}},
                {"$set": {C.LEASE_UNTIL: now + LEASE}},
            )
            if doc is None:
                return claimed
            claimed += 1
            self.spawn(doc[C.ID])

    async def resume_forever(self, interval_s: float) -> None:
        """Sweep for orphaned commands now and then; never raises."""
        while True:
            try:
                await self.resume_orphans()
            except Exception:
                log.exception("resuming tag commands failed")
            await asyncio.sleep(interval_s)

    async def close(self) -> None:
        """Stop background expansions (their leases expire and another API resumes them)."""
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.publisher.close()


def _messages(
    command: commands.CommandDocument,
) -> Callable[[dict[str, Any]], ChangeTags | ChangeSplit]:
    """The per-image message of a tags or single-target split command."""
    command_id = command[C.ID]
    if command.get(C.KIND) == "split":
        split = command.get(C.SPLIT)
        return lambda image: _split_message(command_id, image, split)  # type: ignore[arg-type]
    change = TagChange(command[C.ADD], command[C.REMOVE])
    return lambda image: ChangeTags(
        command_id=command_id,
        bucket=image[F.BUCKET],
        key=image[F.KEY],
        dataset_id=image[F.DATASET_ID],
        add=change.add,
        remove=change.remove,
        requested_at=datetime.now(UTC),
    )


def _split_message(command_id: str, image: dict[str, Any], split: Split | None) -> ChangeSplit:
    return ChangeSplit(
        command_id=command_id,
        bucket=image[F.BUCKET],
        key=image[F.KEY],
        dataset_id=image[F.DATASET_ID],
        split=split,
        requested_at=datetime.now(UTC),
    )


def _stored(position: Position | None) -> list[Any] | None:
    return None if position is None else position.to_payload()


def _position(stored: list[Any] | None) -> Position | None:
    return Position.from_payload(*stored) if stored else None
