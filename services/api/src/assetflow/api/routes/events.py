"""Live dataset events as server-sent events: the same items as the listing, filter-aware."""

from typing import Annotated, Any

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from assetflow.api.deps import ListingFilterDep, LiveDep, ReadableDataset, SettingsDep
from assetflow.api.problems import problem_responses
from assetflow.contracts.errors import InvalidRequestError

router = APIRouter(prefix="/v1")

_STREAM_DOC = """`text/event-stream`. Events: `image.indexed`, `image.updated`, `image.removed`,
`image.entered` / `image.left` (an image starts / stops matching the stream's filters),
`snapshot.progress`, `snapshot.ready`, `snapshot.failed`, and `reset` (re-list: the stream
could not resume, or fell behind and is closed). Image events carry
`{"image": <listing item>, "fields": [...], "applied_at": ...}`; every event has an `id` to
send back as `Last-Event-ID`. A `: ping` comment keeps idle streams open."""


@router.get(
    "/datasets/{dataset_id}/events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": _STREAM_DOC,
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **problem_responses(400, 422, 503),
    },
)
async def dataset_events(
    dataset_id: ReadableDataset,
    listing: ListingFilterDep,
    live: LiveDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None, Header(max_length=64, description="resume after this event")
    ] = None,
) -> EventSourceResponse:
    """Changes to the dataset's images as they are indexed, as a stream of server-sent events."""
    if listing.duplicates:
        # A group's flag moves with other images' changes; the changes topic carries each
        # image's own state only, so this filter cannot be followed live.
        raise InvalidRequestError("duplicates=true is not available on live events")
    options = settings.api
    stream = live.open(dataset_id, listing, last_event_id)

    async def frames() -> Any:
        async for frame in stream:
            yield ServerSentEvent(data=frame.data, event=frame.event, id=frame.id)

    return EventSourceResponse(
        frames(),
        ping=options.live_heartbeat_s,
        send_timeout=options.live_send_timeout_s,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        background=BackgroundTask(stream.close),  # also when the body never started
    )
