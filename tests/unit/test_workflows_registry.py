"""How the controller process is told to run (or not run) WorkflowRuns, and with which pod settings."""

from __future__ import annotations

from datetime import UTC, datetime

import kopf

from analysis.workflows.executors.pods import PodSettings
from analysis.workflows.registry import pod_settings, register


class NoCalls:
    async def call(self, *_: object, **__: object) -> object:
        raise AssertionError("registering must not call the API")


def clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def test_a_disabled_controller_leaves_workflow_runs_alone() -> None:
    registry = kopf.OperatorRegistry()
    assert register(registry, NoCalls(), clock=clock, environ={}, enabled=False) is None
    assert not list(registry._watching.get_all_handlers())


def test_by_default_the_run_and_pod_handlers_are_registered() -> None:
    registry = kopf.OperatorRegistry()
    assert register(registry, NoCalls(), clock=clock, environ={}) is not None
    ids = {str(handler.id) for handler in registry._watching.get_all_handlers()}
    assert {"workflow_run_controller", "workflow_run_pod_events"} <= ids
    assert {str(handler.id) for handler in registry._indexing.get_all_handlers()} == {"workflow_run_pods"}


def test_pod_settings_come_from_the_environment() -> None:
    assert pod_settings({}) == PodSettings()
    settings = pod_settings(
        {
            "ROLLOUTS_WORKFLOW_RUNNER_IMAGE": "registry.example/runner:1",
            "ROLLOUTS_WORKFLOW_RUNNER_COMMAND": "/usr/bin/python3 -m analysis.workflows.executors.podside",
            "ROLLOUTS_WORKFLOW_ARTIFACT_HOST_PATH": "/var/lib/artifacts",
        }
    )
    assert settings == PodSettings(
        runner_image="registry.example/runner:1",
        runner_command=("/usr/bin/python3", "-m", "analysis.workflows.executors.podside"),
        repository_host_path="/var/lib/artifacts",
    )
