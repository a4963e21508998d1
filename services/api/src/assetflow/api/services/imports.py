"""Zip imports: check the uploaded zip, record the import and command it; its status."""

import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from assetflow.api.publishing import Publisher
from assetflow.api.services import Database
from assetflow.api.services.jobs import accept, find_visible
from assetflow.contracts.commands import ImportZip
from assetflow.contracts.errors import InvalidRequestError, NotFoundError, StorageUnavailableError
from assetflow.domain.tokens import Permissions
from assetflow.domain.zipimport import path_problem
from assetflow.readmodel import imports
from assetflow.readmodel.imports import I


class Imports:
    """Accepts zips uploaded under ``<dataset>/imports/`` for the snapshotter to unpack."""

    def __init__(self, db: Database, s3: Any, bucket: str, publisher: Publisher) -> None:
        self._db = db
        self._s3 = s3
        self._bucket = bucket
        self._publisher = publisher

    async def request(self, dataset_id: str, key: str) -> str:
        """Record the import of the zip at ``key`` and command it; returns the import id."""
        prefix = f"{dataset_id}/imports/"
        rest = key.removeprefix(prefix)
        if rest == key or not rest or (problem := path_problem(rest)):
            reason = "not under " + prefix if rest == key or not rest else problem
            raise InvalidRequestError(f"key {key!r}: {reason}")
        try:
            await self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise NotFoundError(f"no object {key!r}; upload the zip first") from None
            raise StorageUnavailableError(f"storage refused the lookup: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailableError(f"storage unavailable: {exc}") from exc
        import_id = uuid.uuid4().hex
        command = ImportZip(
            import_id=import_id, dataset_id=dataset_id, requested_at=datetime.now(UTC)
        )
        collection = self._db[imports.COLLECTION]
        await accept(collection, {I.ID: import_id, I.KEY: key}, self._publisher, command)
        return import_id

    async def status(self, import_id: str, caller: Permissions) -> dict[str, Any]:
        """An import's document; 404 if none, or the caller cannot see it."""
        collection = self._db[imports.COLLECTION]
        doc: dict[str, Any] = await find_visible(
            collection, import_id, caller, f"import {import_id!r}"
        )
        return doc
