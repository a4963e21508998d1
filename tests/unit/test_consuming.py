"""Poison isolation: a permanent error dead-letters only its record; a transient one rewinds."""

import pytest

from assetflow.contracts.errors import DatabaseUnavailableError, InvalidEventError
from assetflow.platform.consuming import failure_reason, is_transient, isolate_failures
from assetflow.platform.deadletter import SourceRecord


def batch(*values: bytes) -> list[SourceRecord]:
    return [SourceRecord("t", 0, offset, None, value) for offset, value in enumerate(values)]


class Logic:
    """Applies records unless the batch holds a poison one; records what it applied."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.applied: list[bytes] = []
        self.calls = 0

    async def __call__(self, records: list[SourceRecord]) -> None:
        self.calls += 1
        if any(r.value.startswith(b"poison") for r in records):
            raise self.error
        self.applied.extend(r.value for r in records)


@pytest.mark.asyncio
async def test_poison_records_are_dead_lettered_and_every_good_one_is_applied() -> None:
    records = batch(*(b"poison-a" if i in (3, 11) else b"ok-%d" % i for i in range(16)))
    logic = Logic(InvalidEventError("key outside the dataset layout: 'x'"))
    dead: list[tuple[int, str]] = []

    async def dead_letter(record: SourceRecord, reason: str) -> None:
        dead.append((record.offset, reason))

    count = await isolate_failures(records, logic, dead_letter)

    assert count == 2
    reason = "key outside the dataset layout: 'x'"
    assert dead == [(3, reason), (11, reason)]
    assert sorted(set(logic.applied)) == sorted(b"ok-%d" % i for i in range(16) if i not in (3, 11))
    assert logic.calls < 16  # halving, not one call per record


@pytest.mark.asyncio
async def test_an_unexpected_exception_is_permanent_and_named_in_the_reason() -> None:
    dead: list[str] = []

    async def dead_letter(record: SourceRecord, reason: str) -> None:
        dead.append(reason)

    await isolate_failures(batch(b"poison"), Logic(KeyError("width")), dead_letter)
    assert dead == ["KeyError: 'width'"]


@pytest.mark.asyncio
async def test_a_transient_error_rewinds_the_whole_batch_and_dead_letters_nothing() -> None:
    dead: list[str] = []

    async def dead_letter(record: SourceRecord, reason: str) -> None:
        dead.append(reason)

    logic = Logic(DatabaseUnavailableError("no primary"))
    with pytest.raises(DatabaseUnavailableError):
        await isolate_failures(batch(b"ok", b"poison"), logic, dead_letter)
    assert dead == [] and logic.calls == 1


def test_classification() -> None:
    assert is_transient(DatabaseUnavailableError("x")) and is_transient(TimeoutError())
    assert not is_transient(InvalidEventError("bad")) and not is_transient(ValueError())
    assert failure_reason(InvalidEventError("bad key")) == "bad key"
