"""Composition root of the API: clients built in the lifespan, routes, error handlers."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI

from assetflow.api.cursor import CursorCodec
from assetflow.api.observability import RequestMetricsMiddleware
from assetflow.api.presign import Presigner
from assetflow.api.problems import install_problem_handlers, install_problem_schemas
from assetflow.api.routes import health, images
from assetflow.api.settings import ApiSettings
from assetflow.common.clients import make_mongo_client, make_s3_session, s3_client_kwargs
from assetflow.common.logs import configure_logging
from assetflow.common.migrations import migrate


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API; clients are opened when it starts, not here."""
    settings = settings or ApiSettings()
    configure_logging("api", settings.log.level, settings.log.format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            mongo = make_mongo_client(settings.mongo)
            stack.push_async_callback(mongo.close)
            db = mongo[settings.mongo.db]
            await migrate(db)
            s3 = await stack.enter_async_context(
                make_s3_session().client("s3", **s3_client_kwargs(settings.s3))
            )
            presigner = Presigner(
                endpoint_url=settings.s3.public_endpoint_url or settings.s3.endpoint_url,
                access_key=settings.s3.access_key,
                secret_key=settings.s3.secret_key.get_secret_value(),
                region=settings.s3.region,
            )
            yield {
                "settings": settings,
                "mongo": mongo,
                "db": db,
                "s3": s3,
                "presigner": presigner,
                "cursors": CursorCodec(settings.api.cursor_secret.get_secret_value().encode()),
            }

    app = FastAPI(title="assetflow", version="0.1.0", lifespan=lifespan)
    app.add_middleware(RequestMetricsMiddleware)
    install_problem_handlers(app)
    app.include_router(images.router)
    app.include_router(health.router)
    install_problem_schemas(app)
    return app
