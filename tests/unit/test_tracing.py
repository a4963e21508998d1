"""Sampling decisions: the share of new traces, and the sampled flag of a traceparent."""

import pytest

from assetflow.platform import tracing

SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("sampler", "argument", "ratio"),
    [
        (None, None, 1.0),
        ("parentbased_always_on", None, 1.0),
        ("always_off", None, 0.0),
        ("parentbased_always_off", "0.5", 0.0),
        ("parentbased_traceidratio", "0.01", 0.01),
        ("TraceIdRatio", "2", 1.0),
        ("traceidratio", "", 1.0),
        ("traceidratio", "lots", 1.0),
    ],
)
def test_root_ratio_follows_the_standard_settings(
    sampler: str | None, argument: str | None, ratio: float
) -> None:
    assert tracing.root_ratio(sampler, argument) == ratio


def test_only_a_valid_sampled_traceparent_continues_a_trace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not tracing.sampled({"traceparent": SAMPLED})  # tracing off: nothing is traced
    monkeypatch.setattr(tracing, "_configured", True)
    assert tracing.sampled({"traceparent": SAMPLED})
    assert tracing.sampled({"traceparent": SAMPLED[:-2] + "03"})  # other flags set too
    assert not tracing.sampled({"traceparent": SAMPLED[:-2] + "00"})
    assert not tracing.sampled({"traceparent": SAMPLED[:-2] + "zz"})
    assert not tracing.sampled({"traceparent": SAMPLED[:-1]})
    assert not tracing.sampled({})
    assert not tracing.sampled(None)


def test_sample_root_keeps_about_the_configured_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_configured", True)
    monkeypatch.setattr(tracing, "_root_ratio", 0.1)
    kept = sum(tracing.sample_root() for _ in range(20_000))
    assert 1_500 < kept < 2_500  # 2,000 expected; 11 standard deviations either side
    monkeypatch.setattr(tracing, "_root_ratio", 0.0)
    assert not any(tracing.sample_root() for _ in range(1_000))


def test_a_step_of_an_untraced_object_starts_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    exported = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))  # as the consumers configure it
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracer = provider.get_tracer("test")
    monkeypatch.setattr(tracing, "_configured", True)
    with tracing.child_span(tracer, "render"):  # no traced parent: nothing at all
        pass
    assert exported.get_finished_spans() == ()
    with tracer.start_as_current_span("thumbnail"), tracing.child_span(tracer, "render"):
        pass
    names = {span.name: span for span in exported.get_finished_spans()}
    assert set(names) == {"thumbnail", "render"}
    parent = names["render"].parent
    assert parent is not None and parent.span_id == names["thumbnail"].context.span_id
