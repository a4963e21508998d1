"""Jobs another service runs (snapshots, imports): recorded here, then commanded over Kafka."""

from typing import Any

from assetflow.api.auth import require_visible
from assetflow.api.publishing import Publisher
from assetflow.contracts.commands import CreateSnapshot, ImportZip
from assetflow.contracts.errors import NotFoundError
from assetflow.domain.tokens import Permissions


async def accept(
    collection: Any, doc: dict[str, Any], publisher: Publisher, command: CreateSnapshot | ImportZip
) -> None:
    """Record a queued job, then publish its command; a job whose command Kafka did not take
    is removed again (the client gets a 503 and retries)."""
    now = command.requested_at
    doc |= {"dataset_id": command.dataset_id, "status": "queued"}
    await collection.insert_one(doc | {"created_at": now, "updated_at": now})
    try:
        await publisher.send_command(command.dataset_id, command)
    except Exception:
        await collection.delete_one({"_id": doc["_id"]})
        raise


async def find_visible(collection: Any, doc_id: str, caller: Permissions, what: str) -> Any:
    """A job's document (``_id`` and ``dataset_id``); 404 if it does not exist or lies in a
    dataset the caller cannot read."""
    doc = await collection.find_one({"_id": doc_id})
    if doc is None:
        raise NotFoundError(f"no {what}")
    require_visible(caller, doc["dataset_id"], what)
    return doc
