"""The application state: the services a request may use, built once in the lifespan."""

from dataclasses import dataclass
from typing import Final

from assetflow.api.auth import Authenticator
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
from assetflow.api.services.shares import Shares
from assetflow.api.services.snapshots import Snapshots
from assetflow.api.services.tags import Tagging
from assetflow.api.services.uploads import Uploads
from assetflow.api.services.views import Views
from assetflow.api.services.webhooks import Webhooks
from assetflow.api.settings import ApiSettings

STATE_KEY: Final = "app_state"
"""The lifespan state's one key (``request.state.app_state``); deps.py reads it."""


@dataclass(frozen=True, slots=True)
class AppState:
    """Everything the routes reach, through the dependencies in deps.py."""

    settings: ApiSettings
    authenticator: Authenticator
    cursors: CursorCodec
    health: HealthChecks
    datasets: Datasets
    images: Images
    media: Media
    archive: Archive
    curation: Curation
    tagging: Tagging
    annotations: Annotations
    snapshots: Snapshots
    imports: Imports
    uploads: Uploads
    live: LiveEvents
    views: Views
    quotas: Quotas
    shares: Shares
    webhooks: Webhooks

    def lifespan_state(self) -> dict[str, "AppState"]:
        """What the lifespan yields: Starlette copies it into every request's state."""
        return {STATE_KEY: self}
