"""A driver for the pure workflow scheduler: a clock, a status, and pods that "run" by rule.

Tests describe what each leaf does with a ``behaviour`` function (``StartPod`` → ``Outcome``);
the world feeds the outcome back through ``apply_report`` and advances its own clock, so
scheduler tests read like tables of node phases without any process or cluster. The default
behaviour understands two commands: ``echo ARGS`` (succeeds, stdout = the args) and
``exit N`` (``sh -c "exit N"``: fails with that code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from analysis.workflows.actions import Decision, PodReport, StartPod, StopPod
from analysis.workflows.scheduler import apply_report, schedule
from analysis.workflows.spec import Outputs, Parameter, Workflow, WorkflowSpec
from analysis.workflows.status import FINAL_PHASES, NodeStatus, WorkflowStatus

START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Outcome:
    phase: str = "Succeeded"
    result: str | None = None
    exit_code: str | None = "0"
    parameters: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    seconds: float = 1.0
    """How long the pod runs, in world time."""


def default_behaviour(pod: StartPod) -> Outcome:
    container = pod.template.get("container") or pod.template.get("script") or {}
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    if words[:1] == ["echo"]:
        return Outcome(result=" ".join(words[1:]))
    if words[:2] == ["sh", "-c"] and words[2].startswith("exit "):
        code = words[2].split()[1]
        if code == "0":
            return Outcome()
        return Outcome("Failed", exit_code=code, message=f"main: Error (exit code {code})")
    return Outcome()


class World:
    def __init__(
        self,
        manifest: str | dict[str, Any],
        *,
        library: dict[tuple[bool, str], str] | None = None,
        start: datetime = START,
    ) -> None:
        data = yaml.safe_load(manifest) if isinstance(manifest, str) else manifest
        data.setdefault("metadata", {}).setdefault("name", "wf")
        self.workflow = Workflow.from_dict(data)
        self.library = {
            key: WorkflowSpec.from_dict(yaml.safe_load(text)) for key, text in (library or {}).items()
        }
        self.now = start
        self.status: WorkflowStatus | None = None
        self.started: list[StartPod] = []
        self.stopped: list[StopPod] = []
        self.running: dict[str, tuple[StartPod, datetime, Outcome]] = {}
        self.decisions: list[Decision] = []

    def step(self) -> Decision:
        decision = schedule(self.workflow, self.status, self.now, self.library)
        self.status = decision.status
        self.decisions.append(decision)
        for action in decision.actions:
            if isinstance(action, StopPod):
                self.stopped.append(action)
                self.running.pop(action.node_id, None)
        return decision

    def report(self, node_name: str, outcome: Outcome) -> None:
        node = self.node(node_name)
        assert self.status is not None
        outputs = Outputs(
            result=outcome.result,
            exit_code=outcome.exit_code,
            parameters=[Parameter(name=k, value=v) for k, v in outcome.parameters.items()] or None,
        )
        self.status = apply_report(
            self.status, PodReport(node.id, outcome.phase, outcome.message, outputs), self.now
        )

    def run(
        self,
        behaviour: Callable[[StartPod], Outcome] = default_behaviour,
        *,
        passes: int = 200,
        tick: float = 1.0,
    ) -> WorkflowStatus:
        """Pass, start what was asked, let time run, report what finished; until a final phase."""
        for _ in range(passes):
            decision = self.step()
            assert self.status is not None
            if self.status.phase in FINAL_PHASES:
                return self.status
            for action in decision.actions:
                if isinstance(action, StartPod) and action.node_id not in self.running:
                    self.started.append(action)
                    self.running[action.node_id] = (action, self.now, behaviour(action))
                    self.status = apply_report(self.status, PodReport(action.node_id, "Running"), self.now)
            self.now += timedelta(seconds=tick)
            for node_id, (action, began, outcome) in list(self.running.items()):
                if self.now >= began + timedelta(seconds=outcome.seconds):
                    del self.running[node_id]
                    self.report(action.node_name, outcome)
        raise AssertionError(f"workflow did not finish in {passes} passes: {self.phases()}")

    def node(self, name: str) -> NodeStatus:
        assert self.status is not None
        full = name if name.startswith(self.name) else f"{self.name}{name}"
        for node in self.status.nodes.values():
            if node.name == full:
                return node
        raise AssertionError(f"no node {full!r}; nodes: {sorted(self.phases())}")

    @property
    def name(self) -> str:
        return self.workflow.metadata.name or ""

    def phases(self) -> dict[str, str]:
        """Node name (without the workflow name) → phase."""
        assert self.status is not None
        return {
            node.name.removeprefix(self.name) or "<root>": node.phase for node in self.status.nodes.values()
        }

    def leaf_phases(self) -> dict[str, str]:
        assert self.status is not None
        return {
            node.name.removeprefix(self.name) or "<root>": node.phase
            for node in self.status.nodes.values()
            if node.type in ("Pod", "Skipped", "Suspend")
        }

    def started_names(self) -> list[str]:
        return [action.node_name.removeprefix(self.name) for action in self.started]
