"""The ``init`` and ``wait`` containers of a step's pod: ``python3 -m analysis.workflows.executors.podside``.

``init`` stages the script source and input artifacts into the shared ``/var/run/argo`` volume;
``wait`` waits until the ``main`` container's wrapper has finished, collects its outputs (the same
``staging.collect`` the local executor uses), stores output artifacts in the repository and
reports ``{"phase", "message", "outputs"}`` as JSON: on its last line of stdout (the pod log)
and, when it fits, in its termination message, which the engine reads from the pod status without
another request. Settings come from environment variables set by the Kubernetes executor.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from analysis.workflows.executors.artifacts import ArtifactError, ArtifactRepository
from analysis.workflows.executors.staging import ARGO_DIR, StagingError, collect, stage

__all__ = ["REPORT_PREFIX", "TERMINATION_LIMIT", "main"]

REPORT_PREFIX = "rollouts-workflow-report: "
TERMINATION_LIMIT = 4000
_TERMINATION_LOG = Path("/dev/termination-log")


def _repository() -> ArtifactRepository | None:
    root = os.environ.get("ARGO_ARTIFACT_REPOSITORY")
    return ArtifactRepository(Path(root)) if root else None


def _terminate(message: str) -> None:
    with contextlib.suppress(OSError):  # outside a pod there is no termination log: stdout is enough
        _TERMINATION_LOG.write_text(message[-TERMINATION_LIMIT:], encoding="utf-8")


def _init(template: dict[str, object]) -> int:
    try:
        stage(template, Path(ARGO_DIR), _repository())
    except (StagingError, ArtifactError, OSError) as error:
        print(f"init: {error}", file=sys.stderr)
        _terminate(str(error))
        return 1
    return 0


def _wait(template: dict[str, object]) -> int:
    argo = Path(ARGO_DIR)
    done = argo / "ctr" / "main" / "done"
    while not done.exists():
        time.sleep(0.1)
    collected = collect(
        template,
        argo,
        exit_code=None,
        capture_result=os.environ.get("ARGO_CAPTURE_RESULT") == "true",
        repository=_repository(),
        key_prefix=os.environ.get("ARGO_KEY_PREFIX", "artifacts"),
    )
    report = json.dumps(
        {
            "phase": collected.phase,
            "message": collected.message,
            "outputs": collected.outputs.model_dump(by_alias=True, exclude_none=True),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )
    print(REPORT_PREFIX + report, flush=True)
    _terminate(report if len(report.encode()) <= TERMINATION_LIMIT else json.dumps({"inLog": True}))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments not in (["init"], ["wait"]):
        print("usage: python3 -m analysis.workflows.executors.podside init|wait", file=sys.stderr)
        return 2
    template = json.loads(os.environ.get("ARGO_TEMPLATE", "{}"))
    return _init(template) if arguments == ["init"] else _wait(template)


if __name__ == "__main__":
    sys.exit(main())
