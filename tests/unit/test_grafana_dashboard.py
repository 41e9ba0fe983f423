"""examples/grafana: valid dashboard JSON whose queries use only metrics the controller exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from rollouts.controller.collectors import StateCollector
from rollouts.controller.metrics import ControllerMetrics

BOARD = Path(__file__).parents[2] / "examples" / "grafana" / "rollouts-dashboard.json"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
METRIC = re.compile(r"\b((?:rollout|analysis_run|controller|experiment)_[a-z0-9_]+)\b")


def exported_series() -> set[str]:
    registry = CollectorRegistry()
    registry.register(StateCollector(lambda: [], lambda: []))
    names = set()
    for family in [*registry.collect(), *ControllerMetrics().registry.collect()]:
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names


def board() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(BOARD.read_text())
    return loaded


def test_every_query_uses_exported_series() -> None:
    exported = exported_series()
    expressions = [target["expr"] for panel in board()["panels"] for target in panel["targets"]]
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used  # the regex found the metrics
    assert used - exported == set(), f"not exported: {sorted(used - exported)}"


def test_panels_are_well_formed() -> None:
    panels = board()["panels"]
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        assert panel["title"]
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert [t["refId"] for t in panel["targets"]] == [
            chr(ord("A") + i) for i in range(len(panel["targets"]))
        ]


def test_the_namespace_variable_feeds_the_queries() -> None:
    variables = {v["name"]: v for v in board()["templating"]["list"]}
    assert variables["namespace"]["definition"] == "label_values(rollout_info, namespace)"
    filtered = [t["expr"] for p in board()["panels"] for t in p["targets"] if "$namespace" in t["expr"]]
    assert len(filtered) >= 10
