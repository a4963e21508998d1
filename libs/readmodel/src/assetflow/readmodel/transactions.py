"""Multi-document transactions retried on write conflicts (and only on those)."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from assetflow.readmodel.dberrors import is_write_conflict, translate_db_error

T = TypeVar("T")
CONFLICT_ATTEMPTS = 8


async def in_transaction(
    db: AsyncDatabase[dict[str, Any]],
    work: Callable[[AsyncClientSession], Awaitable[T]],
    *,
    what: str,
    on_conflict: Callable[[], None] | None = None,
) -> T:
    """Run ``work`` in one transaction; a write conflict reruns it, up to 8 times.

    A conflict (another writer of the same document committed first) settles in
    milliseconds, so it is retried at once with a little jitter. Any other database error
    is translated (transient or permanent) for the caller: an outage is not retried here
    (``with_transaction`` would retry it for two minutes without a sign). Exceptions that
    are not database errors (a failed precondition) abort the transaction and propagate.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            async with (
                db.client.start_session() as session,
                await session.start_transaction(),
            ):
                return await work(session)
        except PyMongoError as exc:
            if not is_write_conflict(exc) or attempt == CONFLICT_ATTEMPTS:
                raise translate_db_error(exc, what) from exc
            if on_conflict is not None:
                on_conflict()
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))
    raise AssertionError("unreachable")
