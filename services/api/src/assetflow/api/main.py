"""Composition root of the API: clients opened in the lifespan, the services wired over them
into the AppState, routes, error handlers."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import botocore.session
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from assetflow.api.auth import Authenticator
from assetflow.api.cursor import CursorCodec
from assetflow.api.observability import RequestMetricsMiddleware
from assetflow.api.problems import install_problem_handlers, install_problem_schemas
from assetflow.api.publishing import Publisher
from assetflow.api.routes import (
    annotations,
    archive,
    curation,
    datasets,
    events,
    health,
    images,
    imports,
    media,
    quotas,
    shares,
    snapshots,
    splits,
    tags,
    uploads,
    views,
    webhooks,
)
from assetflow.api.services.annotations import Annotations
from assetflow.api.services.archive import Archive
from assetflow.api.services.curation import Curation
from assetflow.api.services.datasets import Datasets
from assetflow.api.services.health import HealthChecks
from assetflow.api.services.images import Images
from assetflow.api.services.imports import Imports
from assetflow.api.services.live import LiveEvents
from assetflow.api.services.media import Media
from assetflow.api.services.quotas import Quotas
from assetflow.api.services.shares import Shares
from assetflow.api.services.snapshots import Snapshots
from assetflow.api.services.tags import Tagging
from assetflow.api.services.uploads import Uploads
from assetflow.api.services.views import Views
from assetflow.api.services.webhooks import Webhooks
from assetflow.api.settings import ApiSettings
from assetflow.api.sharing import SessionSigner
from assetflow.api.state import AppState
from assetflow.domain.annotating import Annotating
from assetflow.domain.webhooks import SecretBox
from assetflow.platform.logs import configure_logging
from assetflow.platform.metrics import set_build_info
from assetflow.platform.tracing import configure_tracing
from assetflow.readmodel.migrations import migrate
from assetflow.readmodel.mongo import make_mongo_client
from assetflow.storage.clients import make_presigner, make_s3_session, s3_client_kwargs
from assetflow.storage.presign import Presigner

log = logging.getLogger(__name__)

# Measured with bench/api_bench.py: with the default gen-0 threshold (700) the collector ran
# ~800 young and 6 full collections per 4,500 pages, 0.27 ms of CPU per page, the full ones
# re-scanning ~150k start-up objects (imports, clients) each time. A page's own objects are
# freed by reference counting as soon as it is sent; they seldom form cycles.
_GEN0_THRESHOLD = 50_000


@contextmanager
def _collector_tuned_for_requests() -> Iterator[None]:
    """Freeze start-up objects out of the collector and collect less eagerly, until exit."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_GEN0_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    """Probes and scrapes are not worth a trace."""
    return scope.get("path") in ("/metrics", "/healthz", "/readyz")


def build_state(
    settings: ApiSettings,
    *,
    mongo: AsyncMongoClient[dict[str, Any]],
    s3: Any,
    presigner: Presigner,
    signing: Any,
) -> AppState:
    """Wire the services over opened clients; nothing here does I/O or connects.

    ``s3`` is the service's client (internal endpoint); ``presigner`` and ``signing`` (a
    botocore client) sign URLs for the public endpoint.
    """
    db = mongo[settings.mongo.db]
    options = settings.api
    bucket = settings.s3.bucket
    publisher = Publisher(settings.kafka)
    images = Images(db, presigner, options, s3)
    dataset_quotas = Quotas(db, bucket)
    return AppState(
        settings=settings,
        authenticator=Authenticator(settings.auth_settings()),
        cursors=CursorCodec(options.cursor_secret.get_secret_value().encode()),
        health=HealthChecks(mongo, s3, bucket),
        datasets=Datasets(db),
        images=images,
        media=Media(db, s3, presigner, options),
        archive=Archive(db, s3, bucket),
        curation=Curation(db, presigner, options),
        tagging=Tagging(db, publisher),
        annotations=Annotations(Annotating(db, publisher), db, bucket),
        snapshots=Snapshots(db, publisher, presigner, bucket, options.snapshot_url_expires_s),
        imports=Imports(db, s3, bucket, publisher),
        uploads=Uploads(
            db,
            s3,
            signing,
            bucket,
            options.upload_url_expires_s,
            options.upload_limits,
            options.multipart_threshold,
            dataset_quotas,
        ),
        live=LiveEvents(settings.kafka, options, images.items_by_id),
        views=Views(db),
        quotas=dataset_quotas,
        shares=Shares(
            db,
            presigner,
            options,
            SessionSigner(options.share_secret.get_secret_value().encode()),
        ),
        webhooks=Webhooks(
            db,
            SecretBox(settings.webhooks.secret_keys),
            allow_private=settings.webhooks.allow_private_targets,
        ),
    )


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API; clients are opened when it starts, not here."""
    settings = settings or ApiSettings()
    configure_logging("api", settings.log.level, settings.log.format)
    set_build_info("api")
    configure_tracing("api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, AppState]]:
        async with AsyncExitStack() as stack:
            mongo = make_mongo_client(settings.mongo)
            stack.push_async_callback(mongo.close)
            await migrate(mongo[settings.mongo.db])
            s3 = await stack.enter_async_context(
                make_s3_session().client("s3", **s3_client_kwargs(settings.s3))
            )
            signing = botocore.session.get_session().create_client(
                "s3", **s3_client_kwargs(settings.s3, public=True)
            )
            presigner = make_presigner(settings.s3, public=True)
            state = build_state(settings, mongo=mongo, s3=s3, presigner=presigner, signing=signing)
            if not state.authenticator.enabled:
                log.warning("API_AUTH=off: every caller may read and change every dataset")
            stack.push_async_callback(state.tagging.close)
            interval = settings.api.resume_interval_s
            sweeps = (
                state.tagging.resume_forever(interval),
                state.annotations.republish_forever(interval),
            )
            for sweep in sweeps:
                stack.callback(asyncio.create_task(sweep).cancel)
            await state.live.start()
            stack.push_async_callback(state.live.close)
            stack.enter_context(_collector_tuned_for_requests())
            yield state.lifespan_state()

    app = FastAPI(
        title="assetflow",
        version="0.1.0",
        lifespan=lifespan,
        # FastAPI's own server span per request (continuing a caller's traceparent), on the
        # provider configure_tracing installed; Prometheus and our logs cover the rest.
        telemetry={
            "tracing": True,
            "operation_spans": False,
            "metrics": False,
            "logs": False,
            "auto_configure": False,
            "exclude": _untraced,
        },
    )
    app.add_middleware(RequestMetricsMiddleware)
    install_problem_handlers(app)
    app.include_router(datasets.router)
    app.include_router(quotas.router)
    app.include_router(images.router)
    app.include_router(media.router)
    app.include_router(uploads.router)
    app.include_router(tags.router)
    app.include_router(annotations.router)
    app.include_router(snapshots.router)
    app.include_router(archive.router)
    app.include_router(curation.router)
    app.include_router(splits.router)
    app.include_router(views.router)
    app.include_router(shares.router)
    app.include_router(webhooks.router)
    app.include_router(imports.router)
    app.include_router(events.router)
    app.include_router(health.router)
    install_problem_schemas(app)
    return app
