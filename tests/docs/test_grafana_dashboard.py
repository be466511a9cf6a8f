"""docs/grafana-dashboard.json queries only series a running gateway exports on /metrics (the
reference stack, with the access log and a rate limit on, so that their series exist too)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.stack import ANN, reference_stack
from tests.servers import ROOT

DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
SERIES = re.compile(r"\brugzak_[a-z0-9_]+")
# the series Prometheus stores for a family of each type
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "gauge": ("",),
    "unknown": ("",),
}


def queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", ()):
            found.append(target["expr"])
    return found


def exported(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
        names |= {sample.name for sample in family.samples}
    return names


def test_the_dashboard_is_grafana_json_with_panels_that_query() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert len(queries()) >= 20
    assert all(SERIES.search(expr) for expr in queries())


def test_every_series_the_dashboard_queries_is_on_metrics(tmp_path: Path) -> None:
    with reference_stack(tmp_path, "--rate-limit", "principal=1000/s") as stack:
        assert stack.query("{ me { name { givenName } } }", insz=ANN).status_code == 200
        response = httpx.get(
            stack.gateway.url + "/metrics", headers=stack.metrics_headers(), timeout=10.0
        )
        assert response.status_code == 200
    names = exported(response.text)
    missing = {
        (series, expr)
        for expr in queries()
        for series in SERIES.findall(expr)
        if series not in names
    }
    assert not missing, missing
