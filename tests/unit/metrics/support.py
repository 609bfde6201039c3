"""Reading an EngineMetrics the way Prometheus does: through the text exposition."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ivr_engine.metrics.engine import EngineMetrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(metrics: EngineMetrics) -> Samples:
    """Every sample of the exposition, parsed back: (name, labels) -> value."""
    text = metrics.exposition().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(metrics: EngineMetrics, name: str, **labels: str) -> float | None:
    """One sample's value in the exposition, None when it is not there."""
    return scrape(metrics).get((name, frozenset(labels.items())))


def errors(metrics: EngineMetrics, kind: str) -> float:
    found = value(metrics, "ivr_errors_total", kind=kind)
    assert found is not None, f"no ivr_errors_total for {kind}"
    return found
