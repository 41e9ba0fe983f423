"""``rollout_abort_info``: why a rollout aborted, as a bounded category, only while it is aborted."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from rollouts.controller.collectors import ABORT_REASONS, StateCollector, abort_reason


def aborted(message: str | None, reason: str = "RolloutAborted", abort: bool = True) -> dict[str, Any]:
    condition = {"type": "Progressing", "status": "False", "reason": reason}
    if message is not None:
        condition["message"] = message
    return {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 2, "strategy": {"canary": {}}},
        "status": {"abort": abort, "conditions": [condition]},
    }


PREFIX = "Rollout aborted update to revision 2"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            PREFIX + ": Step-based analysis phase failed: metric x failed",
            "AnalysisRunFailed",
        ),
        (PREFIX + ": Background analysis phase error: no data", "AnalysisRunError"),
        (
            PREFIX + ': Metric "rate" assessed Failed due to failed (1) > limit (0)',
            "AnalysisRunFailed",
        ),
        (PREFIX + ': Metric "rate" assessed Error due to errors', "AnalysisRunError"),
        (PREFIX + ": Experiment analysis phase is failed: boom", "ExperimentFailed"),
        (
            PREFIX + ': ReplicaSet "web-abc" has timed out progressing.',
            "ProgressDeadlineExceeded",
        ),
        (PREFIX, "UserAbort"),
        (PREFIX + ": something new: with colons", "Other"),
        (None, "UserAbort"),
    ],
)
def test_the_reason_is_a_category_from_the_condition(message: str | None, expected: str) -> None:
    assert abort_reason(aborted(message)) == expected
    assert expected in ABORT_REASONS


def test_a_deadline_condition_and_an_unprocessed_abort() -> None:
    assert abort_reason(aborted("ReplicaSet has timed out", reason="ProgressDeadlineExceeded")) == (
        "ProgressDeadlineExceeded"
    )
    # abort set by a user, the controller has not written its condition yet
    assert abort_reason(aborted('Updated ReplicaSet "a": x', reason="ReplicaSetUpdated")) == "UserAbort"


def test_not_aborted_has_no_reason() -> None:
    assert abort_reason(aborted("Rollout aborted update to revision 2", abort=False)) is None
    assert abort_reason({"metadata": {"name": "x"}}) is None


def _scrape(rollouts: list[dict[str, Any]]) -> str:
    registry = CollectorRegistry()
    registry.register(StateCollector(lambda: rollouts))
    return generate_latest(registry).decode()


def test_the_series_exists_only_while_aborted() -> None:
    message = PREFIX + ": Step-based analysis phase failed: x"
    text = _scrape([aborted(message)])
    assert 'rollout_abort_info{name="web",namespace="shop",reason="AnalysisRunFailed"} 1.0' in text
    assert "rollout_abort_info{" not in _scrape([aborted(message, abort=False)])
    assert "rollout_abort_info{" not in _scrape([])  # deleted: gone with the object


def test_free_text_never_becomes_a_label() -> None:
    message = PREFIX + ': Step-based analysis phase failed: pod "p-1" said 42'
    text = _scrape([aborted(message)])
    assert "p-1" not in text
    assert "42" not in text.split("rollout_abort_info{", 1)[1].split("}", 1)[0]
