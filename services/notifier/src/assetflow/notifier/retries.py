"""When a failed attempt is tried again: exponential back-off with jitter, Retry-After
honoured, bounded by attempts and age."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Answers worth another attempt: the receiver is overloaded or broken for now.
RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))


def backoff_s(attempts: int, initial: float, maximum: float, rng: random.Random) -> float:
    """The delay after the ``attempts``-th failed attempt: ``initial * 2^(attempts-1)``
    capped at ``maximum``, the upper half jittered so failed receivers are not all retried in
    the same second."""
    ceiling = min(maximum, initial * 2.0 ** max(0, attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), if valid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def next_attempt_at(
    *,
    attempts: int,
    created_at: datetime,
    now: datetime,
    initial: float,
    maximum: float,
    max_attempts: int,
    max_age_s: float,
    retry_after: float | None,
    rng: random.Random,
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None: give up (failed)."""
    if attempts >= max_attempts:
        return None
    delay = backoff_s(attempts, initial, maximum, rng)
    if retry_after is not None:
        delay = max(delay, min(retry_after, maximum))
    at = now + timedelta(seconds=delay)
    if at - created_at > timedelta(seconds=max_age_s):
        return None
    return at
