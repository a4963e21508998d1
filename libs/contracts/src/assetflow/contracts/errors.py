"""The assetflow exception tree; translate these only at the edges.

AssetflowError
├── ConfigError                  settings that cannot work (refused at start-up)
├── InvalidEventError            a message that can never be processed -> dead-letter
├── NotFoundError                an entity that does not exist (or the caller may not see) -> 404
├── UnauthenticatedError         no bearer token, or one that proves nothing -> 401
├── ForbiddenError               a valid token without the needed scope -> 403
├── InvalidRequestError          bad client input -> 400
│   └── InvalidCursorError       a cursor that is malformed, tampered or for another listing
├── ConflictError                conflicts with what exists -> 409
│   └── QuotaExceededError       an upload that would take a dataset past its quota
└── TransientError               worth retrying: the work may succeed later
    ├── StorageUnavailableError  S3 / MinIO cannot be reached
    ├── DatabaseUnavailableError MongoDB cannot be reached or refused the write
    └── BrokerUnavailableError   Kafka cannot be reached
"""


class AssetflowError(Exception):
    """Base of every error assetflow raises on purpose."""


class ConfigError(AssetflowError):
    """Settings that cannot work."""


class InvalidEventError(AssetflowError):
    """A message that can never be processed; it belongs on the dead-letter topic."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFoundError(AssetflowError):
    """The requested entity does not exist."""


class UnauthenticatedError(AssetflowError):
    """The caller did not prove who it is; ``error`` is RFC 6750's code, if any."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class ForbiddenError(AssetflowError):
    """The caller is known but its token does not grant this."""


class InvalidRequestError(AssetflowError):
    """The client sent input that cannot be served."""


class ConflictError(AssetflowError):
    """The request conflicts with what exists, e.g. a name already taken."""


class QuotaExceededError(ConflictError):
    """An upload would take a dataset past its quota: which limits, the quota, the usage."""

    def __init__(
        self, exceeded: list[str], quota: dict[str, int | None], usage: dict[str, int]
    ) -> None:
        super().__init__(
            f"the upload would take the dataset past its {' and '.join(exceeded)} quota"
        )
        self.exceeded = exceeded
        self.quota = quota
        self.usage = usage


class InvalidCursorError(InvalidRequestError):
    """A pagination cursor that is malformed, tampered with or from another listing."""


class TransientError(AssetflowError):
    """A failure that may go away on retry."""


class StorageUnavailableError(TransientError):
    """Object storage cannot be reached."""


class DatabaseUnavailableError(TransientError):
    """The database cannot be reached or refused the write."""


class BrokerUnavailableError(TransientError):
    """Kafka cannot be reached."""


class StaleRevisionError(AssetflowError):
    """A conditional write named a revision that is no longer the current one."""

    def __init__(self, current: int) -> None:
        super().__init__(f"the current revision is {current}; re-read and retry")
        self.current = current


class PreconditionRequiredError(AssetflowError):
    """A write that must be conditional (If-Match) came without its condition."""
