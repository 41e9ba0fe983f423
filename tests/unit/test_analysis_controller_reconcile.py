"""The AnalysisRun shell's pure helpers: TTL deadlines, the status merge patch, Event bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.assessment import Event
from analysis.controller.loops import newer
from analysis.controller.reconcile import event_body, invalid_manifest_status, status_patch, ttl_deadline
from analysis.models import AnalysisRun

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(
    phase: str, ttl: dict[str, int] | None, completed_at: str | None = "2026-01-01T00:00:00Z"
) -> AnalysisRun:
    body: dict[str, Any] = {
        "metadata": {"name": "r", "namespace": "ns"},
        "spec": {"metrics": [], "ttlStrategy": ttl},
        "status": {"phase": phase, "completedAt": completed_at},
    }
    return AnalysisRun.from_dict(body)


@pytest.mark.parametrize(
    ("phase", "ttl", "seconds"),
    [
        ("Successful", {"secondsAfterSuccess": 5, "secondsAfterCompletion": 50}, 5),
        ("Successful", {"secondsAfterFailure": 5, "secondsAfterCompletion": 50}, 50),
        ("Failed", {"secondsAfterFailure": 7, "secondsAfterSuccess": 1}, 7),
        ("Error", {"secondsAfterFailure": 7, "secondsAfterCompletion": 9}, 9),
        ("Inconclusive", {"secondsAfterSuccess": 1}, None),
        ("Successful", None, None),
    ],
)
def test_ttl_deadline_by_phase(phase: str, ttl: dict[str, int] | None, seconds: int | None) -> None:
    deadline = ttl_deadline(run(phase, ttl))
    if seconds is None:
        assert deadline is None
    else:
        assert deadline is not None and (deadline - T0).total_seconds() == seconds


def test_ttl_needs_a_completion_time() -> None:
    assert ttl_deadline(run("Successful", {"secondsAfterCompletion": 1}, completed_at=None)) is None


def test_status_patch_only_changes_and_nulls_removed_keys() -> None:
    old = {"phase": "Running", "message": "x", "startedAt": "t"}
    new = {"phase": "Successful", "startedAt": "t", "completedAt": "u"}
    assert status_patch(old, new) == {"status": {"phase": "Successful", "completedAt": "u", "message": None}}
    assert status_patch(new, dict(new)) is None
    assert status_patch(None, {"phase": "Running"}) == {"status": {"phase": "Running"}}


def test_event_body_names_the_run() -> None:
    body = {"metadata": {"name": "r", "namespace": "ns", "uid": "u", "resourceVersion": "7"}}
    event = event_body(body, Event("Warning", "MetricFailed", "Metric 'm' Completed. Result: Failed"), T0)
    assert event["involvedObject"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "name": "r",
        "namespace": "ns",
        "uid": "u",
        "resourceVersion": "7",
    }
    assert (event["type"], event["reason"]) == ("Warning", "MetricFailed")
    assert event["metadata"] == {"generateName": "r.", "namespace": "ns"}
    assert event["firstTimestamp"] == "2026-01-01T00:00:00Z"


def test_an_invalid_manifest_ends_error_with_the_reason() -> None:
    status = invalid_manifest_status("spec.metrics: Field required", T0)
    assert status["phase"] == "Error"
    assert status["message"] == "Analysis spec invalid: spec.metrics: Field required"
    assert status["completedAt"] == status["startedAt"] == "2026-01-01T00:00:00Z"


def test_newer_compares_resource_versions_numerically() -> None:
    def body(version: str) -> dict[str, Any]:
        return {"metadata": {"resourceVersion": version}}

    assert newer(body("10"), body("9"))
    assert not newer(body("9"), body("10"))
    assert newer(body("1"), None)
    assert not newer(None, body("1"))
