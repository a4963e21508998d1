"""FastAPI dependencies, as Annotated aliases, built from the app's lifespan state.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread
pool, a thread hop per dependency per request (measured: 13 % of a listing's CPU).
"""

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.database import AsyncDatabase

from assetflow.api.cursor import CursorCodec
from assetflow.api.publishing import Publisher
from assetflow.api.settings import ApiSettings
from assetflow.common.presign import Presigner


async def _db(request: Request) -> AsyncDatabase[dict[str, Any]]:
    return request.state.db  # type: ignore[no-any-return]


async def _presigner(request: Request) -> Presigner:
    return request.state.presigner  # type: ignore[no-any-return]


async def _cursors(request: Request) -> CursorCodec:
    return request.state.cursors  # type: ignore[no-any-return]


async def _settings(request: Request) -> ApiSettings:
    return request.state.settings  # type: ignore[no-any-return]


async def _publisher(request: Request) -> Publisher:
    return request.state.publisher  # type: ignore[no-any-return]


DbDep = Annotated[AsyncDatabase[dict[str, Any]], Depends(_db)]
PresignerDep = Annotated[Presigner, Depends(_presigner)]
CursorsDep = Annotated[CursorCodec, Depends(_cursors)]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
PublisherDep = Annotated[Publisher, Depends(_publisher)]
