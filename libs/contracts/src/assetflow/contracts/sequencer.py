"""Order events of one object by the storage ``sequencer``."""

SEQUENCER_WIDTH = 32


def normalize_sequencer(raw: str) -> str:
    """Left-pad a hex sequencer so plain string comparison orders it numerically.

    S3 and MinIO sequencers are hexadecimal strings of varying length; only their
    numeric value is ordered. Padding to a fixed width lets MongoDB compare them as strings.
    """
    value = raw.strip().upper()
    if not value or len(value) > SEQUENCER_WIDTH:
        raise ValueError(f"sequencer must be 1-{SEQUENCER_WIDTH} hex digits, got {raw!r}")
    try:
        int(value, 16)
    except ValueError:
        raise ValueError(f"sequencer is not hexadecimal: {raw!r}") from None
    return value.rjust(SEQUENCER_WIDTH, "0")


def is_newer(candidate: str, current: str | None) -> bool:
    """True when ``candidate`` (normalized) supersedes ``current`` (normalized or absent)."""
    return current is None or candidate > current
