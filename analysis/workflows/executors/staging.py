"""What runs around a step's command, identical for the local and the Kubernetes executor.

Argo wraps the main container's command (its ``emissary``) and collects outputs afterwards (its
``wait`` container). We do the same with two small pieces:

* :func:`wrapper_script`: a POSIX ``sh`` script (so any image with ``sh``, even busybox, can run it)
  that copies staged input artifacts into place, runs the command with stdout teed to
  ``<argo>/ctr/main/stdout``, records the exit code, copies declared output files into
  ``<argo>/outputs/``, and exits with the command's code. Every path and word is quoted with
  ``shlex.quote``, so values never become shell syntax.
* :func:`stage` and :func:`collect`: Python run before and after (in the local executor's
  process, or in the pod's ``init``/``wait`` containers) that writes the script source and input
  artifacts, then turns the recorded files into ``Outputs`` with Argo's rules: one trailing newline
  trimmed, ``result`` kept to the last 256 KiB, a missing output file is an ``Error`` unless
  ``valueFrom.default`` or ``optional`` says otherwise, ``exitCode`` as text.

``<argo>`` is ``/var/run/argo`` inside a step (a private directory per step).
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.workflows.executors.artifacts import ArtifactError, ArtifactRepository, stage_input_artifact
from analysis.workflows.spec import Artifact, Outputs, Parameter

__all__ = [
    "ARGO_DIR",
    "RESULT_LIMIT",
    "Collected",
    "StagingError",
    "collect",
    "main_command",
    "stage",
    "wrapper_script",
]

ARGO_DIR = "/var/run/argo"
RESULT_LIMIT = 256 * 1024
SCRIPT_PATH = f"{ARGO_DIR}/staging/script"


class StagingError(ValueError):
    """A template the wrapper cannot run (no command to run, a path it cannot handle)."""


@dataclass(frozen=True)
class Collected:
    """A finished step as the scheduler wants it."""

    phase: str
    message: str | None
    outputs: Outputs


def _body(template: dict[str, Any]) -> dict[str, Any]:
    return template.get("script") or template.get("container") or {}


def main_command(template: dict[str, Any]) -> list[str]:
    """The user's command line: ``command`` + ``args``, plus the script file for scripts.

    Images are not inspected, so a template must say what to run (``command``, or ``args`` whose
    first word is the program).
    """
    body = _body(template)
    words = [*(body.get("command") or []), *(body.get("args") or [])]
    if template.get("script") is not None:
        words.append(SCRIPT_PATH)
    if not words or (template.get("script") is not None and not body.get("command")):
        raise StagingError("the template must set command (images are not inspected for an entrypoint)")
    return [str(word) for word in words]


def _outputs(template: dict[str, Any]) -> dict[str, Any]:
    return template.get("outputs") or {}


def wrapper_script(template: dict[str, Any], argo_dir: str = ARGO_DIR) -> str:
    """The ``sh`` script that runs one step (module docstring)."""
    argo = shlex.quote(argo_dir)
    lines = ["set -u", f"A={argo}", 'mkdir -p "$A/ctr/main" "$A/outputs/parameters" "$A/outputs/artifacts"']
    for artifact in (template.get("inputs") or {}).get("artifacts") or []:
        path = artifact.get("path")
        if not path:
            continue
        staged = f'"$A/inputs/artifacts/"{shlex.quote(artifact["name"])}'
        target = shlex.quote(path)
        lines.append(
            f'if [ -e {staged} ]; then mkdir -p "$(dirname {target})" && rm -rf {target} && '
            f"cp -R {staged} {target}; fi"
        )
    command = " ".join(shlex.quote(word) for word in main_command(template))
    working_dir = _body(template).get("workingDir")
    if working_dir:
        lines.append(f"mkdir -p {shlex.quote(working_dir)} && cd {shlex.quote(working_dir)}")
    lines.append(f'{{ {command}; echo $? > "$A/ctr/main/exitcode"; }} | tee "$A/ctr/main/stdout"')
    lines.append('code=$(cat "$A/ctr/main/exitcode" 2>/dev/null || echo 1)')
    outputs = _outputs(template)
    for parameter in outputs.get("parameters") or []:
        path = (parameter.get("valueFrom") or {}).get("path")
        if path:
            name = shlex.quote(parameter["name"])
            source = shlex.quote(path)
            lines.append(f'if [ -e {source} ]; then cp {source} "$A/outputs/parameters/"{name}; fi')
    for artifact in outputs.get("artifacts") or []:
        path = artifact.get("path")
        if path:
            name = shlex.quote(artifact["name"])
            source = shlex.quote(path)
            lines.append(f'if [ -e {source} ]; then cp -R {source} "$A/outputs/artifacts/"{name}; fi')
    lines.append('touch "$A/ctr/main/done"')
    lines.append('exit "$code"')
    return "\n".join(lines) + "\n"


def stage(template: dict[str, Any], argo: Path, repository: ArtifactRepository | None) -> None:
    """Before the step: the script source and the input artifacts, under ``argo``."""
    for directory in ("staging", "inputs/artifacts", "ctr/main", "outputs/parameters", "outputs/artifacts"):
        (argo / directory).mkdir(parents=True, exist_ok=True)
    script = template.get("script")
    if script is not None:
        (argo / "staging" / "script").write_text(str(script.get("source", "")), encoding="utf-8")
    for artifact in (template.get("inputs") or {}).get("artifacts") or []:
        target = argo / "inputs" / "artifacts" / artifact["name"]
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        stage_input_artifact(artifact, target, repository)


def _trim(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def collect(
    template: dict[str, Any],
    argo: Path,
    *,
    exit_code: int | None,
    capture_result: bool,
    repository: ArtifactRepository | None,
    key_prefix: str,
) -> Collected:
    """After the step: exit code, result, output parameters and artifacts (Argo's rules)."""
    if exit_code is None:
        recorded = argo / "ctr" / "main" / "exitcode"
        text = recorded.read_text(encoding="utf-8").strip() if recorded.exists() else ""
        exit_code = int(text) if text.lstrip("-").isdigit() else None
    outputs = Outputs(exit_code=str(exit_code) if exit_code is not None else None)
    if capture_result:
        stdout = argo / "ctr" / "main" / "stdout"
        if stdout.exists():
            data = stdout.read_bytes()[-RESULT_LIMIT:]
            outputs.result = _trim(data.decode("utf-8", errors="replace"))
    problems: list[str] = []
    declared = _outputs(template)
    parameters: list[Parameter] = []
    for raw in declared.get("parameters") or []:
        parameter = Parameter.model_validate(raw)
        source = parameter.value_from
        value: str | None = parameter.value
        if source is not None and source.path:
            found = argo / "outputs" / "parameters" / parameter.name
            if found.is_file():
                value = _trim(found.read_text(encoding="utf-8", errors="replace"))
            elif source.default is not None:
                value = source.default
            else:
                problems.append(
                    f"output parameter {parameter.name}: open {source.path}: no such file or directory"
                )
                continue
        parameters.append(Parameter(name=parameter.name, value=value, global_name=parameter.global_name))
    artifacts: list[Artifact] = []
    for raw in declared.get("artifacts") or []:
        found = argo / "outputs" / "artifacts" / raw["name"]
        if not found.exists():
            if not raw.get("optional"):
                problems.append(
                    f"output artifact {raw['name']}: {raw.get('path')}: no such file or directory"
                )
            continue
        if repository is None:
            problems.append(f"output artifact {raw['name']}: no artifact repository is configured")
            continue
        try:
            key = repository.save(found, key_prefix, raw)
        except (ArtifactError, OSError) as error:
            problems.append(f"output artifact {raw['name']}: {error}")
            continue
        artifacts.append(
            Artifact.model_validate(
                {
                    key: value
                    for key, value in raw.items()
                    if key in ("name", "path", "archive", "globalName", "mode")
                }
                | {"local": {"key": key}}
            )
        )
    outputs.parameters = parameters or None
    outputs.artifacts = artifacts or None
    if exit_code is None:
        return Collected("Error", "main: the step ended without recording an exit code", outputs)
    if exit_code != 0:
        return Collected("Failed", f"main: Error (exit code {exit_code})", outputs)
    if problems:
        return Collected("Error", "; ".join(problems), outputs)
    return Collected("Succeeded", None, outputs)
