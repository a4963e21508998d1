"""FastAPI dependencies, as Annotated aliases, built from the app's lifespan state."""

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.collection import AsyncCollection

from assetflow.api.cursor import CursorCodec
from assetflow.api.presign import Presigner
from assetflow.api.settings import ApiSettings


def _images(request: Request) -> AsyncCollection[dict[str, Any]]:
    return request.state.images  # type: ignore[no-any-return]


def _presigner(request: Request) -> Presigner:
    return request.state.presigner  # type: ignore[no-any-return]


def _cursors(request: Request) -> CursorCodec:
    return request.state.cursors  # type: ignore[no-any-return]


def _settings(request: Request) -> ApiSettings:
    return request.state.settings  # type: ignore[no-any-return]


ImagesDep = Annotated[AsyncCollection[dict[str, Any]], Depends(_images)]
PresignerDep = Annotated[Presigner, Depends(_presigner)]
CursorsDep = Annotated[CursorCodec, Depends(_cursors)]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
