"""Run leaf steps as local subprocesses, each with the filesystem view a container would have.

Every step gets a directory ``<workdir>/<pod name>/`` holding its private ``tmp``, its
``/var/run/argo`` (staged inputs, recorded outputs) and private copies of the directories its
declared paths live in. The step runs in a new mount namespace (``unshare --mount``, private
propagation) where those directories are bind-mounted over ``/tmp``, ``/var/run/argo`` and the
output directories, so two parallel steps writing ``/tmp/out`` or ``/out/data`` each write their
own file; the host's ``/tmp`` is never touched. Everything else (``python``, ``sh``, coreutils,
``/usr``) is the host's, as in the devcluster's kubelet.

A directory outside ``/tmp`` is only shadowed when it is absent on the host (an empty placeholder
is created, like the kubelet's mount targets) or empty; shadowing a non-empty host directory
(``/etc``, ``/home``) would break the step, so such a path is refused with a clear error. Without
root, ``unshare --map-root-user`` gives the same view where user namespaces are allowed.

Resource templates are not run here (they need a cluster): such a step ends in ``Error`` saying so.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from analysis.workflows.actions import PodReport, StartPod, StopPod
from analysis.workflows.executors.artifacts import ArtifactError, ArtifactRepository
from analysis.workflows.executors.staging import ARGO_DIR, StagingError, collect, stage, wrapper_script

__all__ = ["LocalExecutor", "private_directories"]

_LOG = "main.log"


def private_directories(template: dict[str, Any]) -> list[str]:
    """Directories outside ``/tmp`` a step needs its own copy of: where its declared paths live."""
    paths: list[str] = []
    outputs = template.get("outputs") or {}
    for parameter in outputs.get("parameters") or []:
        path = (parameter.get("valueFrom") or {}).get("path")
        if path:
            paths.append(path)
    paths += [artifact["path"] for artifact in outputs.get("artifacts") or [] if artifact.get("path")]
    inputs = template.get("inputs") or {}
    paths += [artifact["path"] for artifact in inputs.get("artifacts") or [] if artifact.get("path")]
    chosen: list[str] = []
    for path in paths:
        pure = PurePosixPath(path)
        if not pure.is_absolute():
            raise StagingError(f"path {path!r} must be absolute")
        if pure == PurePosixPath("/tmp") or PurePosixPath("/tmp") in pure.parents:
            continue
        directory = _shadowable(pure)
        if directory not in chosen and not any(
            PurePosixPath(c) in PurePosixPath(directory).parents for c in chosen
        ):
            chosen.append(directory)
    return chosen


def _shadowable(path: PurePosixPath) -> str:
    """The shallowest directory above ``path`` that is absent or empty on the host."""
    for candidate in list(reversed(path.parents))[1:]:
        host = Path(candidate)
        if not host.exists() or (host.is_dir() and not any(host.iterdir())):
            return str(candidate)
        if not host.is_dir():
            break
    raise StagingError(
        f"path {str(path)!r}: no directory above it can be given to the step alone (it is the root, or it "
        "exists on this host and is not empty); use a path under /tmp or in a new directory"
    )


@dataclass
class _Step:
    action: StartPod
    directory: Path
    process: subprocess.Popen[bytes] | None
    reported_running: bool = False
    failure: str | None = None
    log: Any = field(default=None, repr=False)


class LocalExecutor:
    """Runs steps under ``workdir``; artifacts go to ``repository`` (default ``<workdir>/artifacts``)."""

    def __init__(
        self, workdir: Path, workflow_name: str, repository: ArtifactRepository | None = None
    ) -> None:
        self.workdir = workdir
        self.workflow_name = workflow_name
        self.repository = repository or ArtifactRepository(workdir / "artifacts")
        self.steps: dict[str, _Step] = {}

    def start(self, action: StartPod) -> None:
        if action.node_id in self.steps:
            return
        directory = self.workdir / action.pod_name
        shutil.rmtree(directory, ignore_errors=True)
        (directory / "argo").mkdir(parents=True)
        (directory / "tmp").mkdir()
        (directory / "tmp").chmod(0o1777)
        step = _Step(action, directory, None)
        self.steps[action.node_id] = step
        if action.template.get("resource") is not None:
            step.failure = (
                "resource templates need a Kubernetes cluster; run this workflow with the kubernetes executor"
            )
            return
        try:
            stage(action.template, directory / "argo", self.repository)
            (directory / "argo" / "wrapper.sh").write_text(wrapper_script(action.template), encoding="utf-8")
            command = self._command(action, directory)
        except (StagingError, ArtifactError, OSError) as error:
            step.failure = str(error)
            return
        step.log = (directory / _LOG).open("wb")
        step.process = subprocess.Popen(
            command,
            stdout=step.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._environment(action),
            cwd=directory,
            start_new_session=True,
        )

    def _environment(self, action: StartPod) -> dict[str, str]:
        body = action.template.get("script") or action.template.get("container") or {}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "ARGO_POD_NAME": action.pod_name,
            "ARGO_NODE_ID": action.node_id,
            "ARGO_WORKFLOW_NAME": self.workflow_name,
            "ARGO_CONTAINER_NAME": "main",
        }
        for variable in body.get("env") or []:
            if "value" in variable:
                env[variable["name"]] = str(variable["value"])
        return env

    def _command(self, action: StartPod, directory: Path) -> list[str]:
        wrapper = f"{ARGO_DIR}/wrapper.sh"
        mounts = [f"mkdir -p {ARGO_DIR}", f"mount --bind {shlex.quote(str(directory / 'argo'))} {ARGO_DIR}"]
        for index, path in enumerate(private_directories(action.template)):
            private = directory / "dirs" / str(index)
            private.mkdir(parents=True)
            mounts.append(f"mkdir -p {shlex.quote(path)}")
            mounts.append(f"mount --bind {shlex.quote(str(private))} {shlex.quote(path)}")
        # /tmp last: the step directories may themselves live under the host's /tmp
        mounts.append(f"mount --bind {shlex.quote(str(directory / 'tmp'))} /tmp")
        # A container starts in "/" (the wrapper cds into workingDir); staying in the step directory
        # would leave the process in a path the private /tmp may now shadow.
        setup = " && ".join(["set -e", *mounts, "cd /"]) + f" && exec sh {wrapper}"
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            unshare.append("--map-root-user")
        return [*unshare, "sh", "-c", setup]

    def stop(self, action: StopPod) -> None:
        step = self.steps.get(action.node_id)
        if step is None or step.process is None or step.process.poll() is not None:
            return
        self._kill(step.process)

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def poll(self) -> list[PodReport]:
        reports: list[PodReport] = []
        for node_id, step in list(self.steps.items()):
            if step.failure is not None:
                reports.append(PodReport(node_id, "Error", step.failure))
                step.failure = None
                step.reported_running = True
                continue
            if step.process is None:
                continue
            code = step.process.poll()
            if code is None:
                if not step.reported_running:
                    step.reported_running = True
                    reports.append(PodReport(node_id, "Running", host_node_name="localhost"))
                continue
            if step.log is not None:
                step.log.close()
                step.log = None
            step.process = None
            collected = collect(
                step.action.template,
                step.directory / "argo",
                exit_code=None,
                capture_result=step.action.capture_result,
                repository=self.repository,
                key_prefix=f"{self.workflow_name}/{step.action.pod_name}",
            )
            message = collected.message
            if collected.phase == "Error" and code not in (0, None) and "exit code" not in (message or ""):
                message = f"{message} (wrapper exit code {code})"
            reports.append(
                PodReport(node_id, collected.phase, message, collected.outputs, host_node_name="localhost")
            )
        return reports

    def wait(self, timeout: float) -> None:
        """Sleep until a step may have changed (a process ended), at most ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(
                step.failure is not None
                or (step.process is not None and step.process.poll() is not None)
                or (step.process is not None and not step.reported_running)
                for step in self.steps.values()
            ):
                return
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def logs(self, pod_name: str) -> str:
        path = self.workdir / pod_name / _LOG
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def close(self) -> None:
        for step in self.steps.values():
            if step.process is not None and step.process.poll() is None:
                self._kill(step.process)
            if step.log is not None:
                step.log.close()
                step.log = None
