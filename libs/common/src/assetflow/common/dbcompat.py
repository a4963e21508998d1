"""What the connected MongoDB-compatible server can do well; FerretDB needs gentler access.

FerretDB 1.24 with SQLite (our embedded default) answers correctly but, measured here
(deploy/local/ferretdb/NOTES.md): serves no query from an index (a miss on ``{_id: x}``
scans the whole collection), deadlocks on an ``update`` command with >= 100 matching ops,
and returns malformed replies for failed update batches. Real MongoDB has none of these.
"""

from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


@dataclass(frozen=True, slots=True)
class DbProfile:
    """How to shape reads and writes for the connected server."""

    name: str
    max_update_ops: int


MONGODB = DbProfile(name="mongodb", max_update_ops=1000)
FERRETDB = DbProfile(name="ferretdb", max_update_ops=50)


async def detect_profile(db: AsyncDatabase[dict[str, Any]]) -> DbProfile:
    """FerretDB identifies itself in ``buildInfo``; everything else is treated as MongoDB."""
    info = await db.command("buildInfo")
    return FERRETDB if any(key.startswith("ferretdb") for key in info) else MONGODB
