"""Which database errors are worth retrying, and which mean one write can never succeed."""

from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError, WriteError

from assetflow.contracts.errors import AssetflowError, DatabaseUnavailableError, InvalidEventError

WRITE_CONFLICT = 112


def is_write_conflict(exc: PyMongoError) -> bool:
    """A transaction lost a race for a document: retrying it will succeed."""
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        return any(error.get("code") == WRITE_CONFLICT for error in errors)
    return isinstance(exc, OperationFailure) and exc.code == WRITE_CONFLICT


def translate_db_error(exc: PyMongoError, what: str) -> AssetflowError:
    """A write error on a document is permanent (dead-letter); anything else is transient.

    Document-level write errors (a value the server refuses, a document too large) fail
    the same way on every retry. Connection, timeout, write-concern, authentication and
    server errors may go away, and retrying them loses nothing.
    """
    if is_write_conflict(exc):
        return DatabaseUnavailableError(f"{what}: write conflict: {exc}")
    if isinstance(exc, BulkWriteError):
        errors = exc.details.get("writeErrors", [])
        if errors and not exc.details.get("writeConcernErrors"):
            first = errors[0]
            return InvalidEventError(
                f"{what}: the database refused {len(errors)} write(s), e.g. "
                f"code {first.get('code')}: {first.get('errmsg')}"
            )
    elif isinstance(exc, WriteError):
        return InvalidEventError(f"{what}: the database refused the write: {exc}")
    return DatabaseUnavailableError(f"{what}: {exc}")
