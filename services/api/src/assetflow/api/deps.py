"""FastAPI dependencies, as Annotated aliases over the typed application state.

Every one reads the AppState the lifespan built (``StateDep``, the only dependency that
touches the request's state). They are ``async def`` on purpose: FastAPI runs a plain
``def`` dependency in the thread pool, a thread hop per dependency per request (measured:
13 % of a listing's CPU).

Access: dataset routes answer 403 when the token does not grant the dataset; routes that
name an image by id answer 404 instead (see auth.py).
"""

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assetflow.api.cursor import CursorCodec
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
from assetflow.api.services.shares import SESSION_HEADER, OpenShare, Shares
from assetflow.api.services.snapshots import Snapshots
from assetflow.api.services.tags import Tagging
from assetflow.api.services.uploads import Uploads
from assetflow.api.services.views import Views
from assetflow.api.services.webhooks import Webhooks
from assetflow.api.settings import ApiSettings
from assetflow.api.state import STATE_KEY, AppState
from assetflow.contracts.errors import ForbiddenError
from assetflow.contracts.events import ImageStatus
from assetflow.contracts.tags import TAG_LIST_PATTERN
from assetflow.domain.tokens import Permissions
from assetflow.readmodel.filters import ListingFilter, Match, SplitFilter

# Declares the scheme in the OpenAPI; a missing or non-Bearer header is ours to answer.
_bearer = HTTPBearer(auto_error=False, description="a JWT; scopes datasets:<id>:read|write")


async def _state(request: Request) -> AppState:
    state: AppState = getattr(request.state, STATE_KEY)
    return state


StateDep = Annotated[AppState, Depends(_state)]


async def _settings(state: StateDep) -> ApiSettings:
    return state.settings


async def _cursors(state: StateDep) -> CursorCodec:
    return state.cursors


async def _health(state: StateDep) -> HealthChecks:
    return state.health


async def _datasets(state: StateDep) -> Datasets:
    return state.datasets


async def _images(state: StateDep) -> Images:
    return state.images


async def _media(state: StateDep) -> Media:
    return state.media


async def _archive(state: StateDep) -> Archive:
    return state.archive


async def _curation(state: StateDep) -> Curation:
    return state.curation


async def _tagging(state: StateDep) -> Tagging:
    return state.tagging


async def _views(state: StateDep) -> Views:
    return state.views


async def _annotations(state: StateDep) -> Annotations:
    return state.annotations


async def _snapshots(state: StateDep) -> Snapshots:
    return state.snapshots


async def _imports(state: StateDep) -> Imports:
    return state.imports


async def _uploads(state: StateDep) -> Uploads:
    return state.uploads


async def _live(state: StateDep) -> LiveEvents:
    return state.live


async def _shares(state: StateDep) -> Shares:
    return state.shares


async def _quotas(state: StateDep) -> Quotas:
    return state.quotas


async def _webhooks(state: StateDep) -> Webhooks:
    return state.webhooks


SettingsDep = Annotated[ApiSettings, Depends(_settings)]
CursorsDep = Annotated[CursorCodec, Depends(_cursors)]
HealthDep = Annotated[HealthChecks, Depends(_health)]
DatasetsDep = Annotated[Datasets, Depends(_datasets)]
ImagesDep = Annotated[Images, Depends(_images)]
MediaDep = Annotated[Media, Depends(_media)]
ArchiveDep = Annotated[Archive, Depends(_archive)]
CurationDep = Annotated[Curation, Depends(_curation)]
TaggingDep = Annotated[Tagging, Depends(_tagging)]
ViewsDep = Annotated[Views, Depends(_views)]
AnnotationsDep = Annotated[Annotations, Depends(_annotations)]
SnapshotsDep = Annotated[Snapshots, Depends(_snapshots)]
ImportsDep = Annotated[Imports, Depends(_imports)]
UploadsDep = Annotated[Uploads, Depends(_uploads)]
LiveDep = Annotated[LiveEvents, Depends(_live)]
QuotasDep = Annotated[Quotas, Depends(_quotas)]
SharesDep = Annotated[Shares, Depends(_shares)]
WebhooksDep = Annotated[Webhooks, Depends(_webhooks)]


async def _caller(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Permissions:
    return await state.authenticator.caller(credentials.credentials if credentials else None)


CallerDep = Annotated[Permissions, Depends(_caller)]


async def _readable_dataset(dataset_id: str, caller: CallerDep) -> str:
    if not caller.can_read(dataset_id):
        raise ForbiddenError(f"the token does not grant datasets:{dataset_id}:read")
    return dataset_id


async def _writable_dataset(dataset_id: str, caller: CallerDep) -> str:
    if not caller.can_write(dataset_id):
        raise ForbiddenError(f"the token does not grant datasets:{dataset_id}:write")
    return dataset_id


async def _administered_dataset(dataset_id: str, caller: CallerDep) -> str:
    if not caller.admin:
        raise ForbiddenError("the token does not grant admin")
    return dataset_id


ReadableDataset = Annotated[str, Depends(_readable_dataset)]
"""The path's ``dataset_id``, once the caller may read it (else 403)."""
WritableDataset = Annotated[str, Depends(_writable_dataset)]
"""The path's ``dataset_id``, once the caller may change it (else 403)."""
AdministeredDataset = Annotated[str, Depends(_administered_dataset)]
"""The path's ``dataset_id``, once the caller is an admin (else 403): quotas, webhooks."""


async def _readable_image(image_id: str, caller: CallerDep, images: ImagesDep) -> str:
    if not caller.admin:  # an admin's unknown id is the route's own 404: no lookup here
        await images.visible_dataset(image_id, caller)
    return image_id


async def _writable_image(image_id: str, caller: CallerDep, images: ImagesDep) -> str:
    if not caller.admin:
        await _writable_dataset(await images.visible_dataset(image_id, caller), caller)
    return image_id


ReadableImage = Annotated[str, Depends(_readable_image)]
"""The path's ``image_id``, once its dataset is readable (else 404, as if it did not exist)."""
WritableImage = Annotated[str, Depends(_writable_image)]
"""The path's ``image_id``, once its dataset is writable (404 if unreadable, else 403)."""


async def _listing_filter(
    request: Request,
    state: StateDep,
    folder: Annotated[str | None, Query(max_length=1024)] = None,
    status: Annotated[ImageStatus | None, Query(description="only images in this state")] = None,
    tags: Annotated[
        str | None,
        Query(
            max_length=4000,
            pattern=TAG_LIST_PATTERN,
            description="comma-separated tags, e.g. cat,dog (normalised like stored tags)",
        ),
    ] = None,
    match: Annotated[Match, Query(description="all: every tag; any: at least one")] = "all",
    untagged: Annotated[bool, Query(description="only images without tags")] = False,
    split: Annotated[
        SplitFilter | None, Query(description="only images in this split (none: in no split)")
    ] = None,
    duplicates: Annotated[
        bool, Query(description="only images another live image has the same bytes as")
    ] = False,
    view: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="a saved view's id: its filter, instead of the above",
        ),
    ] = None,
) -> ListingFilter:
    listing = ListingFilter.parse(folder, status, tags, match, untagged, split, duplicates)
    if view is None:
        return listing
    # Only dataset routes take filters, so the path names the dataset the view must be of.
    dataset_id = request.path_params["dataset_id"]
    return await state.views.resolve(dataset_id, view, listing)


ListingFilterDep = Annotated[ListingFilter, Depends(_listing_filter)]
"""The listing's filters from the query string (also of the archive and of live events)."""


ShareToken = Annotated[
    str, Path(min_length=1, max_length=100, description="the link's token (from /s/<token>)")
]
ShareSessionHeader = Annotated[
    str | None,
    Header(
        alias=SESSION_HEADER,
        max_length=200,
        description="the session POST .../unlock returned (links with a password)",
    ),
]


async def _shared(
    share_token: ShareToken, shares: SharesDep, session: ShareSessionHeader = None
) -> OpenShare:
    # No bearer token here: the link's token is the credential, checked on every request.
    return await shares.unlocked(share_token, session)


SharedSelection = Annotated[OpenShare, Depends(_shared)]
"""The link the path's token opens, working and unlocked (else 404, or 401 for a password)."""
