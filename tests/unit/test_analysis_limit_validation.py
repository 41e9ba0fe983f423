"""Counts, limits and durations that cannot be read end the run ``Error`` naming the field.

Upstream reads a non-numeric IntOrString as 0, so ``count: "x"`` would silently mean
"unbounded" and ``failureLimit: "x"`` would mean "fail on the first failure". Here they are a
spec error, reported in the AnalysisRun status like every other invalid spec.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.assessment import MetricLimits, SpecError, plan_reconcile, validate_metrics
from analysis.models import AnalysisRun, Metric

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
PROMETHEUS = {"prometheus": {"address": "http://prometheus:9090", "query": "up"}}


def metric(**fields: Any) -> dict[str, Any]:
    return {"name": "m", "provider": PROMETHEUS, "interval": "1m", **fields}


def run_status(*metrics: dict[str, Any], args: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    run = AnalysisRun.from_dict({"spec": {"metrics": list(metrics), "args": args or []}})
    plan = plan_reconcile(run, T0)
    assert plan.conclusion is not None, "an invalid spec concludes the reconcile at once"
    assert plan.tasks == ()
    return plan.conclusion.status.phase or "", plan.conclusion.status.message or ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"count": "x"}, 'invalid count "x": not an integer'),
        ({"count": "2.5"}, 'invalid count "2.5": not an integer'),
        ({"count": " 3"}, 'invalid count " 3": not an integer'),
        ({"count": ""}, 'invalid count "": not an integer'),
        ({"count": "99999999999999999999"}, 'invalid count "99999999999999999999": out of range'),
        ({"failureLimit": "none"}, 'invalid failureLimit "none": not an integer'),
        ({"inconclusiveLimit": "1%"}, 'invalid inconclusiveLimit "1%": not an integer'),
        ({"consecutiveErrorLimit": "four"}, 'invalid consecutiveErrorLimit "four": not an integer'),
        ({"consecutiveSuccessLimit": "1e3"}, 'invalid consecutiveSuccessLimit "1e3": not an integer'),
        ({"count": 1 << 40}, "invalid count: value 1099511627776 does not fit an int32"),
        ({"interval": "ten seconds"}, 'invalid interval string: time: invalid duration "ten seconds"'),
        ({"interval": "5"}, 'invalid interval string: time: missing unit in duration "5"'),
        ({"initialDelay": "1 minute"}, 'invalid startDelay string: time: unknown unit " minute" in duration'),
    ],
)
def test_an_unreadable_value_is_a_spec_error_naming_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as raised:
        validate_metrics([Metric.from_dict(metric(**fields))])
    assert str(raised.value).startswith(f"metrics[0]: {message}")
    phase, status_message = run_status(metric(**fields))
    assert phase == "Error"
    assert status_message.startswith(f"Analysis spec invalid: metrics[0]: {message}")


def test_the_second_metric_is_named_by_its_index() -> None:
    phase, message = run_status(metric(), metric(name="n", count="three"))
    assert (phase, message) == (
        "Error",
        'Analysis spec invalid: metrics[1]: invalid count "three": not an integer',
    )


def test_a_substituted_argument_is_read_after_substitution() -> None:
    bad = metric(count="{{args.n}}")
    assert run_status(bad, args=[{"name": "n", "value": "many"}]) == (
        "Error",
        'Analysis spec invalid: metrics[0]: invalid count "many": not an integer',
    )
    good = AnalysisRun.from_dict({"spec": {"metrics": [bad], "args": [{"name": "n", "value": "3"}]}})
    plan = plan_reconcile(good, T0)
    assert plan.conclusion is None
    assert MetricLimits.of(plan.metrics[0]).count == 3


@pytest.mark.parametrize(
    ("value", "number"), [(5, 5), ("5", 5), ("+5", 5), ("-1", -1), ("0007", 7), (None, 0)]
)
def test_integers_in_either_form_are_read(value: int | str | None, number: int) -> None:
    assert MetricLimits.of(Metric.from_dict(metric(count=value))).count == number


def test_a_secret_backed_limit_is_not_judged_before_the_secret_is_read() -> None:
    # while validating, a Secret-backed argument reads as a placeholder, not its value
    run = AnalysisRun.from_dict(
        {
            "spec": {
                "args": [{"name": "limit", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                "metrics": [metric(failureLimit="{{args.limit}}")],
            }
        }
    )
    plan = plan_reconcile(run, T0)
    assert plan.conclusion is None
    assert len(plan.tasks) == 1
