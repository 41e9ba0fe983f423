"""The Job provider's decisions: names, manifest, verdicts, when to look again, what to collect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from analysis.models import AnalysisPhase, Metric, MetricResult
from analysis.providers.job import (
    METRIC_NAME_ANNOTATION,
    RUN_UID_LABEL,
    RunIdentity,
    job_manifest,
    job_name,
    job_pod_selector,
    job_verdict,
    jobs_to_collect,
    metric_job_name,
    next_check_at,
    pod_image_problem,
)

RUN = RunIdentity("web-abc-2-1", "prod", "0f6c-uid")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def job_metric(**metadata: Any) -> Metric:
    return Metric.from_dict(
        {
            "name": "smoke",
            "provider": {
                "job": {
                    "metadata": metadata or None,
                    "spec": {
                        "backoffLimit": 0,
                        "template": {
                            "metadata": {"labels": {"team": "a"}},
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                            },
                        },
                    },
                }
            },
        }
    )


def test_job_names_count_measurements_including_errors() -> None:
    assert job_name(RUN, "smoke", None) == "0f6c-uid.smoke.1"
    result = MetricResult(name="smoke", phase="Running", count=2, error=1)
    assert job_name(RUN, "smoke", result) == "0f6c-uid.smoke.4"


UID = "6f1e9c3a-2b7d-4c5e-9a8b-1d2e3f405162"  # 36 characters, as the API server assigns
LONG_METRIC = "error-rate-of-the-canary-compared-with-the-stable-revision-x"  # 60 characters


@pytest.mark.parametrize(
    ("metric", "number", "expected"),
    [
        ("smoke", 1, f"{UID}.smoke.1"),
        # 36 + 1 + 24 + 1 + 1 = 63: exactly at the limit, kept whole
        ("a" * 24, 1, f"{UID}.{'a' * 24}.1"),
        # one over: the metric loses exactly one character
        ("a" * 24, 10, f"{UID}.{'a' * 23}.10"),
        ("b" * 25, 1, f"{UID}.{'b' * 24}.1"),
        # a 60-character metric keeps its first 24, the number stays whole
        (LONG_METRIC, 1, f"{UID}.error-rate-of-the-canary.1"),
        (LONG_METRIC, 123, f"{UID}.error-rate-of-the-cana.123"),
        # two metrics that share their first 24 characters get the same name (as upstream)
        ("error-rate-of-the-canaryXlatency", 1, f"{UID}.error-rate-of-the-canary.1"),
        # lengths are bytes: "é" is two, so "é"*12 is at the limit and one more drops a whole "é"
        ("é" * 12, 1, f"{UID}.{'é' * 12}.1"),
        ("é" * 13, 1, f"{UID}.{'é' * 12}.1"),
        # a cut through a character drops it: 24 bytes of "x" + "é"*12 end in half an "é"
        ("x" + "é" * 12, 1, f"{UID}.x{'é' * 11}.1"),
    ],
)
def test_job_names_fit_the_label_limit_as_upstream(metric: str, number: int, expected: str) -> None:
    name = metric_job_name(UID, metric, number)
    assert name == expected
    assert len(name.encode()) <= 63


def test_a_uid_longer_than_the_limit_keeps_no_metric_part() -> None:
    assert metric_job_name("u" * 70, "smoke", 1) == f"{'u' * 70}..1"


def test_job_name_counts_from_the_result_and_truncates() -> None:
    run = RunIdentity("r", "ns", UID)
    long_metric = "m" * 60
    result = MetricResult(name=long_metric, phase="Running", count=8, error=1)
    assert job_name(run, long_metric, result) == f"{UID}.{'m' * 23}.10"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (
            {"matchLabels": {"batch.kubernetes.io/controller-uid": "c1"}},
            "batch.kubernetes.io/controller-uid=c1",
        ),
        (
            {
                "matchLabels": {"app": "check"},
                "matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["a", "b"]},
                    {"key": "env", "operator": "NotIn", "values": ["prod"]},
                    {"key": "owned", "operator": "Exists"},
                    {"key": "skip", "operator": "DoesNotExist"},
                ],
            },
            "app=check,tier in (a,b),env notin (prod),owned,!skip",
        ),
        ({}, ""),  # an empty selector selects everything, as in Kubernetes
        (None, None),  # no selector selects nothing
    ],
)
def test_pods_are_found_by_the_jobs_selector(selector: dict[str, Any] | None, expected: str | None) -> None:
    spec = {} if selector is None else {"selector": selector}
    assert job_pod_selector({"spec": spec}) == expected


def test_an_unknown_selector_operator_is_refused() -> None:
    with pytest.raises(ValueError, match="Near"):
        job_pod_selector({"spec": {"selector": {"matchExpressions": [{"key": "k", "operator": "Near"}]}}})


def test_manifest_carries_labels_annotations_and_owner() -> None:
    manifest = job_manifest(RUN, job_metric(labels={"x": "1"}, annotations={"y": "2"}), "n", "prod")
    metadata = manifest["metadata"]
    assert metadata["labels"] == {"x": "1", RUN_UID_LABEL: "0f6c-uid"}
    assert metadata["annotations"] == {
        "y": "2",
        "analysisrun.argoproj.io/name": "web-abc-2-1",
        "analysisrun.argoproj.io/namespace": "prod",
        METRIC_NAME_ANNOTATION: "smoke",
    }
    assert metadata["ownerReferences"][0]["uid"] == "0f6c-uid"
    assert metadata["ownerReferences"][0]["kind"] == "AnalysisRun"
    assert manifest["spec"]["template"]["metadata"]["labels"] == {"team": "a", RUN_UID_LABEL: "0f6c-uid"}
    assert manifest["spec"]["backoffLimit"] == 0


def test_a_job_in_another_namespace_has_no_owner() -> None:
    manifest = job_manifest(RUN, job_metric(), "n", "jobs")
    assert "ownerReferences" not in manifest["metadata"]
    assert manifest["metadata"]["namespace"] == "jobs"


def test_a_metric_without_job_provider_is_refused() -> None:
    metric = Metric.from_dict({"name": "m", "provider": {"web": {"url": "http://x"}}})
    with pytest.raises(ValueError, match="no job provider"):
        job_manifest(RUN, metric, "n", "prod")


def condition(kind: str, status: str = "True", message: str = "") -> dict[str, Any]:
    return {"type": kind, "status": status, "message": message}


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([], None),
        ([condition("Complete")], AnalysisPhase.SUCCESSFUL),
        ([condition("Complete", "False")], None),
        # upstream keeps the condition's message out of the measurement
        ([condition("Failed", message="Job has reached the specified backoff limit")], AnalysisPhase.FAILED),
        ([condition("Suspended")], None),
    ],
)
def test_verdict_from_job_conditions(
    conditions: list[dict[str, Any]], expected: AnalysisPhase | None
) -> None:
    assert job_verdict({"status": {"conditions": conditions}}) == expected
    assert job_verdict({}) is None


def test_image_pull_problems_name_pod_and_container() -> None:
    pod = {
        "metadata": {"name": "p1"},
        "status": {
            "initContainerStatuses": [{"name": "init", "state": {"running": {}}}],
            "containerStatuses": [
                {
                    "name": "c",
                    "state": {
                        "waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}
                    },
                }
            ],
        },
    }
    # upstream's text, trailing newline included
    assert pod_image_problem([pod]) == (
        'Pod p1, container c has terminal error (ImagePullBackOff): Back-off pulling image "x"\n'
    )
    creating = {
        "metadata": {"name": "p2"},
        "status": {
            "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]
        },
    }
    assert pod_image_problem([creating]) is None
    assert pod_image_problem([]) is None


def test_checks_back_off_by_square_root_with_a_one_second_floor() -> None:
    assert next_check_at(T0, T0) == T0 + timedelta(seconds=1)
    assert next_check_at(T0, T0 + timedelta(seconds=50)) == T0 + timedelta(seconds=60)
    assert next_check_at(T0 + timedelta(seconds=5), T0) == T0 + timedelta(seconds=1)  # clock skew


def job(name: str, metric: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "annotations": {METRIC_NAME_ANNOTATION: metric},
        }
    }


def test_garbage_collection_deletes_the_oldest_of_that_metric_only() -> None:
    jobs = [
        job("u.m.3", "m", "2026-01-01T00:00:03Z"),
        job("u.m.1", "m", "2026-01-01T00:00:01Z"),
        job("u.other.1", "other", "2026-01-01T00:00:00Z"),
        job("u.m.2", "m", "2026-01-01T00:00:02Z"),
    ]
    assert jobs_to_collect(jobs, "m", 2) == ["u.m.1"]
    assert jobs_to_collect(jobs, "m", 3) == []
    assert jobs_to_collect(jobs, "m", 0) == ["u.m.1", "u.m.2", "u.m.3"]
