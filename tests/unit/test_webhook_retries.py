"""When a failed delivery is tried again: doubling delays with jitter, Retry-After, bounds."""

import random
from datetime import UTC, datetime, timedelta

from assetflow.notifier.retries import (
    RETRYABLE_STATUSES,
    backoff_s,
    next_attempt_at,
    retry_after_s,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_the_delay_doubles_within_its_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempts, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (10, 300.0), (40, 300.0)):
        delays = [backoff_s(attempts, 1.0, 300.0, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, min(delays))
        assert max(delays) - min(delays) > ceiling / 4  # really jittered


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_s("120", NOW) == 120.0
    assert retry_after_s("Sat, 05 Dec 2026 12:00:30 GMT", NOW) == 30.0
    assert retry_after_s("Sat, 05 Dec 2026 11:00:00 GMT", NOW) == 0.0
    assert retry_after_s("soon", NOW) is None
    assert retry_after_s(None, NOW) is None


def _next(attempts: int, **overrides: object) -> datetime | None:
    arguments: dict[str, object] = {
        "attempts": attempts,
        "created_at": NOW,
        "now": NOW,
        "initial": 1.0,
        "maximum": 300.0,
        "max_attempts": 5,
        "max_age_s": 3600.0,
        "retry_after": None,
        "rng": random.Random(1),
    }
    return next_attempt_at(**(arguments | overrides))  # type: ignore[arg-type]


def test_bounded_by_attempts_and_by_age() -> None:
    first = _next(1)
    assert first is not None and NOW + timedelta(seconds=0.5) <= first <= NOW + timedelta(seconds=1)
    assert _next(4) is not None
    assert _next(5) is None  # the fifth attempt failed: no sixth
    late = NOW + timedelta(seconds=3599.6)  # every delay is at least 0.5 s
    assert _next(1, now=late) is None  # the next attempt would be past max_age_s


def test_retry_after_is_honoured_up_to_the_longest_delay() -> None:
    asked = _next(1, retry_after=60.0)
    assert asked == NOW + timedelta(seconds=60)
    capped = _next(1, retry_after=86_400.0)
    assert capped == NOW + timedelta(seconds=300)
    shorter = _next(3, retry_after=0.1)  # never sooner than the back-off
    assert shorter is not None and shorter >= NOW + timedelta(seconds=2)


def test_what_is_retried() -> None:
    assert {429, 500, 502, 503, 504} <= RETRYABLE_STATUSES
    assert not {200, 301, 400, 401, 404, 410, 422} & RETRYABLE_STATUSES
