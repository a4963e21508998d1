"""Liveness, readiness and metrics."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from assetflow.api.problems import PROBLEM_JSON

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when MongoDB answers ping and the bucket is reachable."""
    state = request.state
    checks: dict[str, str] = {}

    async def check(name: str, probe: Any) -> None:
        try:
            await asyncio.wait_for(probe, timeout=3.0)
            checks[name] = "ok"
        except Exception as exc:  # any failure means not ready; say which and why
            checks[name] = f"failed: {type(exc).__name__}: {exc}"

    await asyncio.gather(
        check("mongo", state.mongo.admin.command("ping")),
        check("s3", state.s3.head_bucket(Bucket=state.settings.s3.bucket)),
    )
    ready = all(v == "ok" for v in checks.values())
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failed = ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok")
    body = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"not ready: {failed}",
        "checks": checks,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)


@router.get("/metrics")
async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
