"""Readiness: does every dependency answer?"""

import asyncio
from typing import Any

from pymongo import AsyncMongoClient


class HealthChecks:
    """Probes MongoDB and the bucket."""

    def __init__(self, mongo: AsyncMongoClient[dict[str, Any]], s3: Any, bucket: str) -> None:
        self._mongo = mongo
        self._s3 = s3
        self._bucket = bucket

    async def checks(self) -> dict[str, str]:
        """'ok', or 'failed: <error>', per dependency (mongo: ping; s3: the bucket)."""
        checks: dict[str, str] = {}

        async def check(name: str, probe: Any) -> None:
            try:
                await asyncio.wait_for(probe, timeout=3.0)
                checks[name] = "ok"
            except Exception as exc:  # any failure means not ready; say which and why
                checks[name] = f"failed: {type(exc).__name__}: {exc}"

        await asyncio.gather(
            check("mongo", self._mongo.admin.command("ping")),
            check("s3", self._s3.head_bucket(Bucket=self._bucket)),
        )
        return checks
