"""The snapshotter's handler: a command in, its long job run, its errors decided here.

Commands are keyed by dataset, so a command that can never succeed must not hold its
partition: a ``TransientError`` (database, broker or storage unavailable) propagates, and the
command is redelivered after a back-off (the job resumes or restarts); any other error fails
the job with the reason and dead-letters the command, and the next one on the partition runs.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from assetflow.contracts.commands import ImportZip, decode_command
from assetflow.contracts.errors import AssetflowError
from assetflow.platform.consuming import failure_reason, is_transient
from assetflow.platform.deadletter import SourceRecord, send_dead_letter
from assetflow.platform.producer import Producer
from assetflow.platform.tracing import extract, tracer

SERVICE = "snapshotter"
TRACER = tracer(__name__)
DEAD_LETTERED = "dead-lettered"
log = logging.getLogger(__name__)


class Job(Protocol):
    """A kind of long job a command asks for (``Builder``, ``Importer``); blocking, so the
    handler runs it in a worker thread."""

    def run(self, job_id: str) -> str:
        """Do (or resume, or skip if finished) the job; returns its final status."""
        ...

    def fail(self, job_id: str, reason: str) -> None:
        """Fail the job for good with the reason, unless it is finished."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotterContext:
    """What the handler needs, built once by the composition root."""

    builds: Job
    imports: Job
    producer: Producer


async def handle_command(record: SourceRecord, ctx: SnapshotterContext) -> str:
    """Run the job a command asks for; returns its final status, or ``dead-lettered``.

    Raises only for a transient error, after which the command is redelivered.
    """
    try:
        command = decode_command(record.value)
    except ValidationError as exc:
        await _dead_letter(ctx, record, f"invalid command: {exc.errors()[0]['msg']}")
        return DEAD_LETTERED
    if isinstance(command, ImportZip):
        job, job_id = ctx.imports, command.import_id
    else:
        job, job_id = ctx.builds, command.snapshot_id
    about = {"job_id": job_id, "type": command.type, "offset": record.offset}
    # A child of the API request that asked for it (the command carries its context).
    attributes = {"job.id": job_id, "dataset.id": command.dataset_id, "job.type": command.type}
    try:
        with TRACER.start_as_current_span(
            command.type, context=extract(record.headers), attributes=attributes
        ):
            status = await asyncio.to_thread(job.run, job_id)
    except Exception as exc:
        if is_transient(exc):
            raise  # not committed: redelivered after a back-off, and the job resumes
        reason = failure_reason(exc)
        log.warning(
            "command failed for good; dead-lettering it",
            exc_info=not isinstance(exc, AssetflowError),  # a bug: keep the traceback
            extra=about | {"reason": reason},
        )
        await asyncio.to_thread(job.fail, job_id, reason)
        await _dead_letter(ctx, record, reason)
        return DEAD_LETTERED
    log.info("command done", extra=about | {"status": status})
    return status


async def handle_batch(records: Sequence[SourceRecord], ctx: SnapshotterContext) -> list[str]:
    """The subscriber's work: each command in partition order (a batch holds one: jobs are
    long, and the next command waits for the one before it)."""
    return [await handle_command(record, ctx) for record in records]


async def _dead_letter(ctx: SnapshotterContext, record: SourceRecord, reason: str) -> None:
    """The command on the dead-letter topic with its reason; returns once that is durable."""
    await (await send_dead_letter(ctx.producer, record, SERVICE, reason))
