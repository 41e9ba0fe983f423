"""The engine loop: scheduler ↔ executor, until the workflow reaches a final phase.

Each turn: ``schedule`` (pure) decides; new ``StartPod``/``StopPod`` actions go to the executor;
the status is handed to ``on_status`` (the Kubernetes shell writes it to the ``WorkflowRun``
status, the CLI redraws its tree); then the loop sleeps until the executor reports something, the
scheduler's next wake-up (a backoff, a suspend, a deadline) or the poll interval, and folds the
reports in. Pods are started once per engine (the scheduler repeats ``StartPod`` for Pending nodes
and executors are idempotent by pod name, so a restarted engine resumes from the status alone).

``refresh`` lets a shell re-read the workflow each turn, which is how ``shutdown`` (stop,
terminate) and ``resume`` reach a running engine.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from analysis.workflows.actions import PodReport, StartPod, StopPod
from analysis.workflows.executors.local import LocalExecutor
from analysis.workflows.scheduler import apply_report, schedule
from analysis.workflows.spec import Workflow
from analysis.workflows.status import FINAL_PHASES, WorkflowStatus
from analysis.workflows.validation import Library

__all__ = ["Engine", "Executor", "assign_name", "run_locally"]

GENERATED_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class Executor(Protocol):
    def start(self, action: StartPod) -> None: ...

    def stop(self, action: StopPod) -> None: ...

    def poll(self) -> list[PodReport]: ...

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def assign_name(workflow: Workflow, rng: random.Random | None = None) -> Workflow:
    """A copy named like the API server names ``generateName`` objects (5 characters of Argo's alphabet)."""
    if workflow.metadata.name:
        return workflow
    prefix = workflow.metadata.generate_name or "workflow-"
    chooser = rng or random.SystemRandom()
    suffix = "".join(chooser.choice(GENERATED_NAME_ALPHABET) for _ in range(5))
    return workflow.model_copy(
        update={"metadata": workflow.metadata.model_copy(update={"name": prefix + suffix})}
    )


class Engine:
    def __init__(
        self,
        executor: Executor,
        *,
        library: Library | None = None,
        clock: Callable[[], datetime] = utc_now,
        poll_interval: float = 1.0,
        on_status: Callable[[WorkflowStatus], None] | None = None,
        refresh: Callable[[Workflow], Workflow] | None = None,
    ) -> None:
        self.executor = executor
        self.library = library
        self.clock = clock
        self.poll_interval = poll_interval
        self.on_status = on_status
        self.refresh = refresh

    def run(self, workflow: Workflow, status: WorkflowStatus | None = None) -> WorkflowStatus:
        """Run until a final phase; the executor is closed (leftover steps killed) at the end."""
        started: set[str] = set()
        published: WorkflowStatus | None = None
        try:
            while True:
                if self.refresh is not None:
                    workflow = self.refresh(workflow)
                now = self.clock()
                decision = schedule(workflow, status, now, self.library)
                status = decision.status
                for action in decision.actions:
                    if isinstance(action, StopPod):
                        self.executor.stop(action)
                    elif action.node_id not in started:
                        started.add(action.node_id)
                        self.executor.start(action)
                if self.on_status is not None and status != published:
                    self.on_status(status)
                    published = status
                if status.phase in FINAL_PHASES:
                    return status
                timeout = self.poll_interval
                if decision.wake_at is not None:
                    timeout = min(timeout, max(0.0, (decision.wake_at - now).total_seconds()))
                self.executor.wait(timeout)
                for report in self.executor.poll():
                    status = apply_report(status, report, self.clock())
        finally:
            self.executor.close()


def run_locally(
    workflow: Workflow,
    workdir: Path,
    *,
    library: Library | None = None,
    on_status: Callable[[WorkflowStatus], None] | None = None,
    poll_interval: float = 0.2,
) -> tuple[Workflow, WorkflowStatus]:
    """Run ``workflow`` locally under ``workdir``; returns the named workflow and its final status."""
    named = assign_name(workflow)
    name = named.metadata.name or ""
    executor = LocalExecutor(workdir / name, name)
    engine = Engine(executor, library=library, on_status=on_status, poll_interval=poll_interval)
    return named, engine.run(named)
