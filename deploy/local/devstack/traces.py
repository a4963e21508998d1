"""Read the services' trace files (JSON lines of spans) and print one object's traces."""

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Span = dict[str, Any]


def spans(directory: Path) -> Iterator[Span]:
    """Every span every service wrote (a line cut short by a crash is skipped)."""
    for path in sorted(directory.glob("*.jsonl")):
        with path.open() as lines:
            for line in lines:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def traces_of(directory: Path, needle: str) -> dict[str, list[Span]]:
    """The traces (by id) with a span about ``needle``: an image id, or a key (or its end)."""
    everything = list(spans(directory))
    wanted = {
        span["trace_id"]
        for span in everything
        if (attributes := span.get("attributes") or {}).get("image.id") == needle
        or str(attributes.get("key", "")).endswith(needle)
    }
    found: dict[str, list[Span]] = defaultdict(list)
    for span in everything:
        if span["trace_id"] in wanted:
            found[span["trace_id"]].append(span)
    return dict(found)


def waterfall(trace: list[Span], width: int = 40) -> list[str]:
    """The trace as indented lines: offset and duration in ms, a bar, service and span name."""
    by_id = {span["span_id"]: span for span in trace}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for span in trace:
        parent = span["parent_id"] if span["parent_id"] in by_id else None
        children[parent].append(span)
    start = min(span["start_ns"] for span in trace)
    total = max(span["end_ns"] for span in trace) - start or 1
    lines: list[str] = []

    def walk(span: Span, depth: int) -> None:
        offset = span["start_ns"] - start
        duration = span["end_ns"] - span["start_ns"]
        left = round(offset / total * width)
        bar = " " * left + "█" * max(1, round(duration / total * width))
        label = f"{'  ' * depth}{span['service']} {span['name']}"
        lines.append(f"{offset / 1e6:9.1f} ms {duration / 1e6:9.1f} ms |{bar:<{width}}| {label}")
        for child in sorted(children[span["span_id"]], key=lambda s: s["start_ns"]):
            walk(child, depth + 1)

    for root in sorted(children[None], key=lambda s: s["start_ns"]):
        walk(root, 0)
    return lines
