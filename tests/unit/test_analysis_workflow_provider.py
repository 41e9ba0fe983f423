"""The workflow provider's decisions: names, spec and arguments, manifest, verdicts and values.

The verdict tests go through the real expr evaluator (``evaluate_result``), so a condition such
as ``result.score >= 0.9`` is checked against the value the provider builds from the outputs.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from analysis.composition import CompositionError, resolve_metric
from analysis.controller.api import ApiCallError
from analysis.models import AnalysisPhase, Argument, Measurement, Metric, MetricResult
from analysis.providers.job import METRIC_NAME_ANNOTATION, RUN_UID_LABEL, RunIdentity
from analysis.providers.workflow import (
    WORKFLOW_EXECUTOR_KEY,
    WORKFLOW_NAME_KEY,
    WorkflowProvider,
    WorkflowSpecError,
    output_value,
    run_verdict,
    spec_problems,
    terminate_patch,
    workflow_run_manifest,
    workflow_run_name,
    workflow_spec,
)

RUN = RunIdentity("web-abc-2-1", "prod", "0f6c9a2e-4f1b-4c55-9d7e-3b2a1c0d9e8f")
T0 = datetime(2026, 1, 1, tzinfo=UTC)

SMOKE_SPEC: dict[str, Any] = {
    "entrypoint": "main",
    "arguments": {"parameters": [{"name": "service", "value": "default"}, {"name": "tries", "value": "1"}]},
    "onExit": "report",
    "templates": [
        {
            "name": "main",
            "inputs": {"parameters": [{"name": "service", "value": "{{workflow.parameters.service}}"}]},
            "container": {"image": "busybox", "command": ["sh", "-c", "echo {{inputs.parameters.service}}"]},
        },
        {"name": "report", "container": {"image": "busybox", "command": ["echo", "{{workflow.status}}"]}},
    ],
}


def workflow_metric(provider: dict[str, Any], **fields: Any) -> Metric:
    return Metric.from_dict({"name": "smoke", "provider": {"workflow": provider}, **fields})


def inline(provider: dict[str, Any] | None = None, **fields: Any) -> Metric:
    return workflow_metric({"spec": SMOKE_SPEC, **(provider or {})}, **fields)


# -- names ------------------------------------------------------------------------------------


def test_names_are_dns_labels_counting_measurements_including_errors() -> None:
    first = workflow_run_name(RUN, "smoke", None)
    fourth = workflow_run_name(RUN, "smoke", MetricResult(name="smoke", phase="Running", count=2, error=1))
    assert re.fullmatch(r"smoke-[0-9a-f]{10}-1", first)
    assert fourth == first[:-1] + "4"
    assert workflow_run_name(RUN, "smoke", None) == first  # a retried create finds the same name
    assert workflow_run_name(RUN, "other", None) != first
    assert workflow_run_name(RunIdentity("r", "prod", "another-uid"), "smoke", None) != first


def test_long_or_odd_metric_names_still_make_a_valid_workflow_name() -> None:
    name = workflow_run_name(RUN, "Smoke_Test." + "x" * 100, None)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    assert len(name) <= 63
    assert name.startswith("smoke-test-x")
    assert workflow_run_name(RUN, "__", None).startswith("metric-")


# -- spec and arguments -------------------------------------------------------------------------


def test_metric_arguments_replace_and_extend_the_spec_parameters() -> None:
    given = [{"name": "service", "value": "web"}, {"name": "extra", "value": "1"}]
    metric = inline({"arguments": {"parameters": given}})
    spec = workflow_spec(metric)
    assert spec["arguments"]["parameters"] == [
        {"name": "service", "value": "web"},
        {"name": "tries", "value": "1"},
        {"name": "extra", "value": "1"},
    ]
    assert SMOKE_SPEC["arguments"]["parameters"][0]["value"] == "default"  # the metric is not changed
    assert spec["templates"] == SMOKE_SPEC["templates"]


def test_a_template_reference_runs_the_template_spec_with_the_arguments() -> None:
    metric = workflow_metric(
        {
            "workflowTemplateRef": {"name": "smoke"},
            "arguments": {"parameters": [{"name": "service", "value": "x"}]},
        }
    )
    spec = workflow_spec(metric, {"entrypoint": "main", "templates": SMOKE_SPEC["templates"]})
    assert spec["entrypoint"] == "main"
    assert spec["arguments"] == {"parameters": [{"name": "service", "value": "x"}]}


@pytest.mark.parametrize(
    "provider",
    [
        {},
        {"spec": SMOKE_SPEC, "workflowTemplateRef": {"name": "smoke"}},
    ],
)
def test_exactly_one_of_spec_and_template_reference(provider: dict[str, Any]) -> None:
    with pytest.raises(WorkflowSpecError, match="exactly one of spec and workflowTemplateRef"):
        workflow_spec(workflow_metric(provider))


def test_a_metric_of_another_provider_is_refused() -> None:
    metric = Metric.from_dict({"name": "m", "provider": {"web": {"url": "http://x"}}})
    with pytest.raises(WorkflowSpecError, match="no workflow provider"):
        workflow_spec(metric)


def test_args_fill_the_spec_and_the_workflow_keeps_its_own_tags() -> None:
    metric = workflow_metric(
        {
            "spec": {
                "entrypoint": "main",
                "templates": [
                    {
                        "name": "main",
                        "container": {
                            "image": "busybox",
                            "command": [
                                "sh",
                                "-c",
                                "curl {{ args.url }} {{inputs.parameters.x}} {{workflow.status}}",
                            ],
                        },
                    }
                ],
            },
            "arguments": {"parameters": [{"name": "service", "value": "{{args.service}}"}]},
        }
    )
    resolved = resolve_metric(
        metric, [Argument(name="service", value='we"b'), Argument(name="url", value="http://w/x")]
    )
    workflow = resolved.provider.workflow
    assert workflow is not None and workflow.spec is not None and workflow.arguments is not None
    command = workflow.spec["templates"][0]["container"]["command"][2]
    assert command == "curl http://w/x {{inputs.parameters.x}} {{workflow.status}}"
    assert workflow.arguments.to_dict() == {"parameters": [{"name": "service", "value": 'we"b'}]}


def test_a_spec_without_args_tags_is_left_alone() -> None:
    metric = inline()
    assert resolve_metric(metric, []) == metric


def test_a_missing_arg_inside_the_spec_is_reported() -> None:
    metric = workflow_metric({"spec": {**SMOKE_SPEC, "entrypoint": "{{args.entry}}"}})
    with pytest.raises(CompositionError, match=r"failed to resolve \{\{args.entry\}\}"):
        resolve_metric(metric, [])


# -- validation before anything is created -------------------------------------------------------


def test_a_valid_spec_has_no_problems() -> None:
    assert spec_problems("smoke-1", workflow_spec(inline())) == []


def test_engine_validation_lists_every_problem() -> None:
    spec = {
        "entrypoint": "nowhere",
        "templates": [
            {"name": "main", "steps": [[{"name": "a", "template": "missing"}]]},
        ],
    }
    problems = spec_problems("smoke-1", spec)
    assert "template name 'nowhere' undefined" in " ".join(problems)
    assert "missing" in " ".join(problems)


def test_a_spec_of_the_wrong_shape_names_the_field() -> None:
    problems = spec_problems("smoke-1", {"entrypoint": "main", "templates": {"name": "main"}})
    assert problems and problems[0].startswith("spec.templates")


class _NoApi:
    """An API that answers every request with an error (599 unless told otherwise)."""

    def __init__(self, status: int = 599) -> None:
        self.status = status

    async def call(self, method: str, path: str, **_: Any) -> Any:
        raise ApiCallError(self.status, f"unexpected {method} {path}")


def test_an_invalid_inline_spec_is_an_error_measurement_and_nothing_is_created() -> None:
    metric = workflow_metric({"spec": {"templates": [{"name": "main", "container": {"image": "x"}}]}})
    provider = WorkflowProvider(_NoApi(), RUN, {}, clock=lambda: T0)
    measurement = asyncio.run(provider.measure(metric))
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert "invalid workflow: spec.entrypoint is required" in measurement.message
    assert "could not be created" not in measurement.message
    assert measurement.finished_at is not None


def test_an_api_failure_is_an_error_measurement() -> None:
    provider = WorkflowProvider(_NoApi(), RUN, {}, clock=lambda: T0)
    measurement = asyncio.run(provider.measure(inline()))
    assert measurement.phase == "Error"
    assert (
        measurement.message is not None
        and "could not be created: 599: unexpected POST" in measurement.message
    )
    resumed = asyncio.run(
        provider.resume(inline(), measurement.model_copy(update={"metadata": {WORKFLOW_NAME_KEY: "w"}}))
    )
    assert resumed.phase == "Error" and resumed.message == "workflow w: 599: unexpected GET " + (
        "/apis/workflows.rollouts.dev/v1alpha1/namespaces/prod/workflowruns/w"
    )


# -- the manifest -----------------------------------------------------------------------------------


def test_manifest_carries_labels_annotations_owner_and_spec() -> None:
    metric = inline({"metadata": {"labels": {"team": "a"}, "annotations": {"note": "n"}}})
    manifest = workflow_run_manifest(RUN, metric, "smoke-1", workflow_spec(metric))
    assert manifest["apiVersion"] == "workflows.rollouts.dev/v1alpha1"
    assert manifest["kind"] == "WorkflowRun"
    metadata = manifest["metadata"]
    assert metadata["name"] == "smoke-1" and metadata["namespace"] == "prod"
    assert metadata["labels"] == {"team": "a", RUN_UID_LABEL: RUN.uid}
    assert metadata["annotations"] == {
        "note": "n",
        "analysisrun.argoproj.io/name": "web-abc-2-1",
        "analysisrun.argoproj.io/namespace": "prod",
        METRIC_NAME_ANNOTATION: "smoke",
    }
    owner = metadata["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "AnalysisRun",
        "web-abc-2-1",
        RUN.uid,
        True,
    )
    assert manifest["spec"]["onExit"] == "report"


def test_terminate_patch_is_argo_terminate() -> None:
    assert terminate_patch() == {"spec": {"shutdown": "Terminate"}}


# -- outputs and verdicts --------------------------------------------------------------------------


def parameters(**values: str) -> dict[str, Any]:
    return {"parameters": [{"name": key, "value": value} for key, value in values.items()]}


def workflow_run(phase: str | None, message: str | None = None, **status: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": {"name": "smoke-1"}}
    if phase is not None:
        body["status"] = {"phase": phase, "message": message, **status}
    return body


def test_value_merges_entrypoint_and_global_outputs_decoding_json() -> None:
    status = {
        "nodes": {
            "smoke-1": {"outputs": parameters(score="0.5", label="plain text", ok="true")},
            "smoke-1-123": {"outputs": parameters(score="0.1", inner="x")},
        },
        "outputs": parameters(score="0.93", detail='{"p99": 120}'),
    }
    assert output_value("smoke-1", status) == {
        "score": 0.93,
        "label": "plain text",
        "ok": True,
        "detail": {"p99": 120},
    }


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"nodes": "garbage", "outputs": "garbage"},
        {"nodes": {"smoke-1": {"outputs": {"parameters": "x"}}}},
        {
            "outputs": {
                "parameters": [{"name": "no-value"}, {"value": "no-name"}, "text", {"name": 3, "value": "1"}]
            }
        },
    ],
)
def test_malformed_outputs_give_an_empty_object(status: dict[str, Any]) -> None:
    assert output_value("smoke-1", status) == {}


@pytest.mark.parametrize(
    "body",
    [
        workflow_run(None),
        workflow_run("Pending"),
        workflow_run("Running"),
        {"metadata": {"name": "smoke-1"}, "status": "garbage"},
        {"metadata": {"name": "smoke-1"}, "status": {"phase": 7}},
    ],
)
def test_no_verdict_until_the_phase_is_final(body: dict[str, Any]) -> None:
    assert run_verdict(inline(), body) is None


def test_succeeded_without_conditions_is_successful_with_the_outputs() -> None:
    body = workflow_run("Succeeded", outputs=parameters(score="0.93"))
    assert run_verdict(inline(), body) == (AnalysisPhase.SUCCESSFUL, "", '{"score":0.93}')


@pytest.mark.parametrize(
    ("condition", "score", "phase"),
    [
        ("result.score >= 0.9", "0.93", AnalysisPhase.SUCCESSFUL),
        ("result.score >= 0.9", "0.5", AnalysisPhase.FAILED),
        ("result.score >= 0.9 && result.ok", "0.95", AnalysisPhase.SUCCESSFUL),
    ],
)
def test_success_condition_reads_the_outputs(condition: str, score: str, phase: AnalysisPhase) -> None:
    metric = inline(successCondition=condition)
    body = workflow_run("Succeeded", outputs=parameters(score=score, ok="true"))
    verdict = run_verdict(metric, body)
    assert verdict is not None
    assert verdict[0] == phase
    assert json.loads(verdict[2]) == {"score": float(score), "ok": True}


def test_failure_condition_and_inconclusive() -> None:
    body = workflow_run("Succeeded", outputs=parameters(errors="3"))
    failing = inline(failureCondition="result.errors > 2")
    assert run_verdict(failing, body) == (AnalysisPhase.FAILED, "", '{"errors":3}')
    both = inline(successCondition="result.errors == 0", failureCondition="result.errors > 5")
    assert run_verdict(both, body) == (AnalysisPhase.INCONCLUSIVE, "", '{"errors":3}')


def test_a_condition_that_cannot_be_evaluated_is_an_error() -> None:
    metric = inline(successCondition="result.score >= 0.9")
    verdict = run_verdict(metric, workflow_run("Succeeded", outputs=parameters(score="n/a")))
    assert verdict is not None
    assert verdict[0] == AnalysisPhase.ERROR
    assert verdict[1].startswith('could not evaluate successCondition "result.score >= 0.9"')


def test_failed_and_error_workflows_carry_the_workflow_message() -> None:
    metric = inline(successCondition="true")
    failed = run_verdict(metric, workflow_run("Failed", "child 'smoke-1-1' failed"))
    assert failed == (AnalysisPhase.FAILED, "workflow smoke-1 Failed: child 'smoke-1-1' failed", "{}")
    errored = run_verdict(metric, workflow_run("Error", "spec.entrypoint is required"))
    assert errored == (AnalysisPhase.ERROR, "workflow smoke-1 Error: spec.entrypoint is required", "{}")
    assert run_verdict(metric, workflow_run("Failed")) == (
        AnalysisPhase.FAILED,
        "workflow smoke-1 Failed",
        "{}",
    )


def test_a_huge_value_is_truncated() -> None:
    verdict = run_verdict(inline(), workflow_run("Succeeded", outputs=parameters(blob="x" * 20000)))
    assert verdict is not None and verdict[2].endswith("…(truncated)") and len(verdict[2]) < 9000


def test_a_failed_workflow_names_its_last_failed_step() -> None:
    nodes = {
        "a": {
            "type": "Pod",
            "displayName": "health(0)",
            "phase": "Failed",
            "message": "exit 1",
            "finishedAt": "t1",
        },
        "b": {
            "type": "Pod",
            "displayName": "health(1)",
            "phase": "Failed",
            "message": "exit 2",
            "finishedAt": "t2",
        },
        "c": {"type": "Retry", "displayName": "health", "phase": "Failed", "message": "No more retries left"},
        "d": {"type": "Pod", "displayName": "homepage", "phase": "Succeeded", "finishedAt": "t3"},
        "e": "garbage",
    }
    verdict = run_verdict(inline(), workflow_run("Failed", "child 'c' failed", nodes=nodes))
    assert verdict is not None
    assert verdict[1] == "workflow smoke-1 Failed: child 'c' failed; health(1): exit 2"


# -- delegation to Argo Workflows -------------------------------------------------------------------


def test_the_argo_executor_creates_an_argo_workflow() -> None:
    metric = inline({"executor": "argo"})
    manifest = workflow_run_manifest(RUN, metric, "smoke-1", workflow_spec(metric))
    assert (manifest["apiVersion"], manifest["kind"]) == ("argoproj.io/v1alpha1", "Workflow")
    assert manifest["metadata"]["labels"] == {RUN_UID_LABEL: RUN.uid}
    assert manifest["metadata"]["ownerReferences"][0]["uid"] == RUN.uid


def test_an_unknown_executor_is_refused_by_the_model() -> None:
    with pytest.raises(ValueError, match="executor"):
        inline({"executor": "tekton"})


def test_argo_not_installed_is_an_error_measurement_saying_so() -> None:
    provider = WorkflowProvider(_NoApi(404), RUN, {}, clock=lambda: T0)
    measurement = asyncio.run(provider.measure(inline({"executor": "argo"})))
    assert measurement.phase == "Error"
    assert measurement.message is not None
    assert "executor argo: the cluster does not serve argoproj.io/v1alpha1 workflows" in measurement.message


def test_an_argo_measurement_is_resumed_and_terminated_on_argo_workflows() -> None:
    provider = WorkflowProvider(_NoApi(), RUN, {}, clock=lambda: T0)
    running = Measurement(phase="Running", metadata={WORKFLOW_NAME_KEY: "w", WORKFLOW_EXECUTOR_KEY: "argo"})
    resumed = asyncio.run(provider.resume(inline(), running))
    assert (
        resumed.message
        == "workflow w: 599: unexpected GET /apis/argoproj.io/v1alpha1/namespaces/prod/workflows/w"
    )
    terminated = asyncio.run(provider.terminate(inline(), running))
    assert terminated.phase == "Error"
    assert (
        terminated.message is not None
        and "PATCH /apis/argoproj.io/v1alpha1/namespaces/prod/workflows/w" in (terminated.message)
    )
