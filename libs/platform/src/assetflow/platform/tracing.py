"""Traces that follow an object across Kafka: W3C trace context in message headers.

Export: OTLP over HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (compose: Jaeger), else
JSON lines in ``TRACES_DIR`` (the local stack: ``.local/traces``; ``devstack trace`` reads
them), else nowhere (the API's no-op tracer: spans cost next to nothing).

Sampling (``OTEL_TRACES_SAMPLER=parentbased_traceidratio``, ``OTEL_TRACES_SAMPLER_ARG=0.01``):
an object's trace is decided once, where it starts (``sample_root`` in ingest), and every later
hop follows the ``traceparent`` flag (``sampled``) without creating anything for an object that
is not traced: measured, unsampled spans and their propagation cost ingest as much as a few
percent of the pipeline (docs/benchmarks.md).
"""

import json
import os
import random
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from opentelemetry import context, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_configured = False
_root_ratio = 1.0
# W3C trace context only (no baggage: nothing here uses it), called directly rather than
# through the global composite propagator: a measurable share of a traced event's cost.
_PROPAGATOR = TraceContextTextMapPropagator()


class JsonLinesExporter(SpanExporter):
    """One JSON object per finished span, appended to ``<dir>/<service>.jsonl``."""

    def __init__(self, directory: Path, service: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._path = directory / f"{service}.jsonl"
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Append the spans."""
        lines = [json.dumps(_as_json(span)) + "\n" for span in spans]
        with self._lock, self._path.open("a") as out:
            out.writelines(lines)
        return SpanExportResult.SUCCESS


def _as_json(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    parent = span.parent
    return {
        "trace_id": f"{ctx.trace_id:032x}" if ctx else None,
        "span_id": f"{ctx.span_id:016x}" if ctx else None,
        "parent_id": f"{parent.span_id:016x}" if parent else None,
        "name": span.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
    }


def root_ratio(sampler: str | None, argument: str | None) -> float:
    """The share of new traces the standard ``OTEL_TRACES_SAMPLER`` settings keep."""
    name = (sampler or "parentbased_always_on").strip().lower()
    if name.endswith("always_off"):
        return 0.0
    if name.endswith("traceidratio"):
        try:
            return min(1.0, max(0.0, float(argument if argument not in (None, "") else 1.0)))
        except ValueError:
            return 1.0
    return 1.0


def configure_tracing(service: str, *, consumer: bool = False) -> None:
    """Install this process's tracer provider (once), exporting as the module doc says.

    A ``consumer`` starts traces only where ``sample_root`` says so and otherwise continues
    sampled parents, so its provider records every span it is asked for; other processes
    (the API: a request is a root) keep the SDK's sampler from the environment.
    """
    global _configured, _root_ratio
    if _configured:
        return
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    directory = os.environ.get("TRACES_DIR")
    if not endpoint and not directory:
        return
    _root_ratio = root_ratio(
        os.environ.get("OTEL_TRACES_SAMPLER"), os.environ.get("OTEL_TRACES_SAMPLER_ARG")
    )
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"assetflow-{service}"}),
        sampler=ParentBased(ALWAYS_ON) if consumer else None,
    )
    exporter: SpanExporter
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
    else:
        exporter = JsonLinesExporter(Path(directory or "."), service)
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    _configured = True


def enabled() -> bool:
    """Spans are exported: worth creating them (measured: even no-op spans and context
    propagation cost ingest ~9 % of its CPU)."""
    return _configured


def sample_root() -> bool:
    """Whether to start a trace here: tracing is on and this one falls in the sampled share."""
    return _configured and (_root_ratio >= 1.0 or random.random() < _root_ratio)


def sampled(headers: Mapping[str, str] | None) -> bool:
    """Whether a message continues a sampled trace: a valid ``traceparent`` with the sampled
    flag. A string check, so an untraced message costs next to nothing."""
    if not _configured or not headers:
        return False
    parent = headers.get("traceparent")
    # version-traceid-spanid-flags: 2+1+32+1+16+1+2 characters.
    if parent is None or len(parent) != 55 or parent[2] != "-" or parent[52] != "-":
        return False
    try:
        return bool(int(parent[53:], 16) & 1)
    except ValueError:
        return False


def child_span(tracer: trace.Tracer, name: str, **kwargs: Any) -> AbstractContextManager[Any]:
    """A span under the current one if that one is recorded, else nothing: a step of an
    untraced object must not start a trace of its own."""
    if _configured and trace.get_current_span().is_recording():
        return tracer.start_as_current_span(name, **kwargs)
    return nullcontext()


def tracer(name: str) -> trace.Tracer:
    """A tracer for one module (a no-op one until ``configure_tracing`` installs a provider)."""
    return trace.get_tracer(name)


def inject(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` plus the current trace context (``traceparent``), for a Kafka message."""
    if _configured and trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> context.Context:
    """The trace context a message's headers carry (empty: a new trace starts)."""
    return _PROPAGATOR.extract(dict(headers or {}))


def kafka_headers(raw: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """aiokafka's ``[(name, bytes)]`` headers as text."""
    return {name: value.decode("utf-8", "replace") for name, value in raw or ()}
