"""The executors' pure parts: the sh wrapper, output collection rules, pod manifests, pod status reading."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.workflows.actions import StartPod
from analysis.workflows.executors.artifacts import ArtifactError, ArtifactRepository, stage_input_artifact
from analysis.workflows.executors.local import private_directories
from analysis.workflows.executors.pods import RUN_LABEL, PodSettings, interpret, pod_manifest
from analysis.workflows.executors.podside import REPORT_PREFIX
from analysis.workflows.executors.staging import (
    RESULT_LIMIT,
    StagingError,
    collect,
    main_command,
    wrapper_script,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEMPLATE = {
    "name": "t",
    "inputs": {"artifacts": [{"name": "in", "path": "/tmp/in dir/data", "raw": {"data": "x"}}]},
    "outputs": {
        "parameters": [{"name": "p", "valueFrom": {"path": "/tmp/p'; rm -rf /"}}],
        "artifacts": [{"name": "a", "path": "/tmp/a"}],
    },
    "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["echo $HOME; echo '$(x)'"]},
}


def test_wrapper_quotes_every_word_and_path(tmp_path: Path) -> None:
    argo = tmp_path / "argo"
    script = wrapper_script(TEMPLATE, str(argo))
    assert "'echo $HOME; echo '\"'\"'$(x)'\"'\"''" in script
    assert "'/tmp/p'\"'\"'; rm -rf /'" in script
    (argo / "inputs" / "artifacts").mkdir(parents=True)
    (argo / "inputs" / "artifacts" / "in").write_text("staged")
    template = {
        **TEMPLATE,
        "container": {"command": ["sh", "-c", "printf 'a\\nb\\n'; exit 3"]},
        "inputs": {"artifacts": [{"name": "in", "path": str(tmp_path / "placed" / "data")}]},
    }
    done = subprocess.run(
        ["sh", "-c", wrapper_script(template, str(argo))], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (3, "a\nb\n")
    assert (argo / "ctr" / "main" / "exitcode").read_text().strip() == "3"
    assert (argo / "ctr" / "main" / "stdout").read_text() == "a\nb\n"
    assert (tmp_path / "placed" / "data").read_text() == "staged"


def test_main_command() -> None:
    assert main_command({"container": {"command": ["echo"], "args": ["a"]}}) == ["echo", "a"]
    assert main_command({"container": {"args": ["echo", "a"]}}) == ["echo", "a"]
    assert main_command({"script": {"command": ["python3"], "source": "x"}}) == [
        "python3",
        "/var/run/argo/staging/script",
    ]
    for template in ({"container": {"image": "x"}}, {"script": {"source": "print(1)"}}):
        with pytest.raises(StagingError, match="must set command"):
            main_command(template)


def test_collect_applies_argo_output_rules(tmp_path: Path) -> None:
    argo = tmp_path / "argo"
    (argo / "ctr" / "main").mkdir(parents=True)
    (argo / "outputs" / "parameters").mkdir(parents=True)
    (argo / "ctr" / "main" / "stdout").write_text("x" * RESULT_LIMIT + "tail\n\n")
    (argo / "outputs" / "parameters" / "p").write_text("value\n\n")
    template = {
        "outputs": {
            "parameters": [
                {"name": "p", "valueFrom": {"path": "/tmp/p"}, "globalName": "g"},
                {"name": "d", "valueFrom": {"path": "/tmp/d", "default": "fallback"}},
                {"name": "s", "value": "static"},
            ]
        }
    }
    collected = collect(template, argo, exit_code=0, capture_result=True, repository=None, key_prefix="k")
    assert collected.phase == "Succeeded"
    assert collected.outputs.result.endswith("tail\n") and len(collected.outputs.result) == RESULT_LIMIT - 1
    values = {p.name: (p.value, p.global_name) for p in collected.outputs.parameters}
    assert values == {"p": ("value\n", "g"), "d": ("fallback", None), "s": ("static", None)}
    missing = collect(
        {
            "outputs": {
                "parameters": [{"name": "m", "valueFrom": {"path": "/tmp/m"}}],
                "artifacts": [{"name": "a", "path": "/a"}, {"name": "o", "path": "/o", "optional": True}],
            }
        },
        argo,
        exit_code=0,
        capture_result=False,
        repository=None,
        key_prefix="k",
    )
    assert (missing.phase, missing.message) == (
        "Error",
        "output parameter m: open /tmp/m: no such file or directory; output artifact a: /a: no such file "
        "or directory",
    )
    failed = collect({}, argo, exit_code=2, capture_result=False, repository=None, key_prefix="k")
    assert (failed.phase, failed.message, failed.outputs.exit_code) == (
        "Failed",
        "main: Error (exit code 2)",
        "2",
    )


def test_repository_round_trips_files_and_directories_and_refuses_escapes(tmp_path: Path) -> None:
    repository = ArtifactRepository(tmp_path / "repo")
    source = tmp_path / "dir"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "f").write_text("content")
    key = repository.save(source, "wf/pod", {"name": "a", "path": "/out/dir"})
    assert key == "wf/pod/a.tgz"
    repository.load(key, tmp_path / "back")
    assert (tmp_path / "back" / "sub" / "f").read_text() == "content"
    plain = repository.save(
        source / "sub" / "f", "wf/pod", {"name": "b", "path": "/f.txt", "archive": {"none": {}}}
    )
    assert plain == "wf/pod/f.txt"
    stage_input_artifact({"name": "b", "local": {"key": plain}}, tmp_path / "staged", repository)
    assert (tmp_path / "staged").read_text() == "content"
    for key in ("../escape", "/etc/passwd"):
        with pytest.raises(ArtifactError, match="must be a relative path"):
            repository.load(key, tmp_path / "x")
    with pytest.raises(ArtifactError, match=r"s3 artifacts are not supported"):
        stage_input_artifact({"name": "c", "s3": {"key": "k"}}, tmp_path / "y", repository)
    with pytest.raises(ArtifactError, match=r"inputs\.artifacts\.d was not supplied"):
        stage_input_artifact({"name": "d"}, tmp_path / "z", repository)
    assert stage_input_artifact({"name": "e", "optional": True}, tmp_path / "w", repository) is False


def test_private_directories_for_paths_outside_tmp() -> None:
    template = {
        "outputs": {
            "parameters": [{"name": "p", "valueFrom": {"path": "/tmp/x"}}],
            "artifacts": [{"name": "a", "path": "/wf-private-test/deep/a"}],
        },
        "inputs": {"artifacts": [{"name": "i", "path": "/wf-private-test/in"}]},
    }
    assert private_directories(template) == ["/wf-private-test"]
    for path in ("/etc/result", "/top-level-file"):
        with pytest.raises(StagingError, match="use a path under /tmp"):
            private_directories({"outputs": {"artifacts": [{"name": "a", "path": path}]}})
    with pytest.raises(StagingError, match="must be absolute"):
        private_directories({"outputs": {"artifacts": [{"name": "a", "path": "relative"}]}})


def action(template: dict, deadline: datetime | None = None) -> StartPod:
    return StartPod("wf-1", "wf[0].a", "wf-t-1", template, capture_result=True, deadline=deadline)


def test_pod_manifest() -> None:
    template = {
        **TEMPLATE,
        "script": {
            "image": "python",
            "command": ["python3"],
            "source": "print(1)",
            "env": [{"name": "A", "value": "1"}],
        },
    }
    del template["container"]
    pod = pod_manifest(
        action(template, NOW + timedelta(seconds=30)),
        "wf",
        "ns",
        NOW,
        settings=PodSettings(repository_host_path="/repo"),
        owner={"kind": "WorkflowRun", "name": "wf"},
    )
    metadata, spec = pod["metadata"], pod["spec"]
    assert metadata["labels"] == {RUN_LABEL: "wf"}
    assert metadata["annotations"] == {
        "workflows.argoproj.io/node-id": "wf-1",
        "workflows.argoproj.io/node-name": "wf[0].a",
    }
    assert metadata["ownerReferences"] == [{"kind": "WorkflowRun", "name": "wf"}]
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] == 30
    assert [c["name"] for c in spec["containers"]] == ["main", "wait"]
    assert [c["name"] for c in spec["initContainers"]] == ["init"]
    main = spec["containers"][0]
    assert main["image"] == "python" and main["command"][:2] == ["sh", "-c"]
    assert {"name": "A", "value": "1"} in main["env"] and "source" not in main
    wait_env = {e["name"]: e["value"] for e in spec["containers"][1]["env"]}
    assert json.loads(wait_env["ARGO_TEMPLATE"]) == template
    assert wait_env["ARGO_CAPTURE_RESULT"] == "true" and wait_env["ARGO_ARTIFACT_REPOSITORY"]
    assert {"name": "artifacts", "hostPath": {"path": "/repo", "type": "DirectoryOrCreate"}} in spec[
        "volumes"
    ]
    plain = pod_manifest(
        action({"container": {"image": "x", "command": ["true"]}}), "wf", "ns", NOW, settings=PodSettings()
    )
    assert "initContainers" not in plain["spec"] and "activeDeadlineSeconds" not in plain["spec"]


def pod(
    phase: str,
    *,
    reason: str | None = None,
    wait: dict | None = None,
    main: dict | None = None,
    init: dict | None = None,
    waiting: dict | None = None,
) -> dict:
    statuses = []
    if main is not None or waiting is not None:
        state = {"terminated": main} if main is not None else {"waiting": waiting}
        statuses.append({"name": "main", "state": state})
    if wait is not None:
        statuses.append({"name": "wait", "state": {"terminated": wait}})
    status = {"phase": phase, "containerStatuses": statuses, "podIP": "10.0.0.1"}
    if reason:
        status["reason"] = reason
    if init is not None:
        status["initContainerStatuses"] = [{"name": "init", "state": {"terminated": init}}]
    return {"spec": {"nodeName": "node-1"}, "status": status}


def test_interpret_pod_statuses() -> None:
    report = json.dumps({"phase": "Succeeded", "message": None, "outputs": {"result": "r", "exitCode": "0"}})
    done = interpret("n", pod("Succeeded", wait={"exitCode": 0, "message": report}))
    assert (done.phase, done.outputs.result, done.host_node_name) == ("Succeeded", "r", "node-1")
    assert (
        interpret("n", pod("Pending", waiting={"reason": "ContainerCreating"})).message == "ContainerCreating"
    )
    running = interpret("n", pod("Running"))
    assert (running.phase, running.pod_ip) == ("Running", "10.0.0.1")
    deadline = interpret("n", pod("Failed", reason="DeadlineExceeded"))
    assert (deadline.phase, deadline.message) == (
        "Failed",
        "Pod was active on the node longer than the specified deadline",
    )
    init = interpret(
        "n", pod("Failed", init={"exitCode": 1, "message": "inputs.artifacts.x was not supplied"})
    )
    assert (init.phase, init.message) == ("Error", "init: inputs.artifacts.x was not supplied")
    crashed = interpret("n", pod("Failed", main={"exitCode": 137, "reason": "Error"}, wait={"exitCode": 1}))
    assert (crashed.phase, crashed.message) == ("Failed", "main: Error (exit code 137)")
    big = pod("Failed", wait={"exitCode": 0, "message": '{"inLog": true}'})
    assert interpret("n", big) is None
    log = f"noise\n{REPORT_PREFIX}" + json.dumps(
        {"phase": "Failed", "message": "m", "outputs": {"exitCode": "1"}}
    )
    assert interpret("n", big, log).phase == "Failed"


OBJECT = {"metadata": {"name": "j"}, "status": {"succeeded": 1, "phase": "Error", "ready": True}}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("status.succeeded > 0", True),
        ("status.succeeded < 1", False),
        ("status.phase == Error", True),
        ("status.phase = Error", True),
        ("status.phase != Error", False),
        ("status.phase in (Failed, Error)", True),
        ("status.phase notin (Failed, Error)", False),
        ("status.ready == true", True),
        ("status.failed", False),
        ("!status.failed", True),
        ("status.failed != 1", True),
    ],
)
def test_resource_requirements(condition: str, holds: bool) -> None:
    from analysis.workflows.requirements import matching, parse_requirements

    requirements = parse_requirements(condition)
    assert (matching(requirements, OBJECT) == requirements) is holds


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("", "condition is empty"),
        ("status.phase in Failed", "needs a list"),
        ("a b c", "is not of the form"),
        ("!status.phase == x", "only negates"),
    ],
)
def test_bad_resource_requirements(condition: str, message: str) -> None:
    from analysis.workflows.requirements import RequirementError, parse_requirements

    with pytest.raises(RequirementError, match=message):
        parse_requirements(condition)


def test_integer_comparison_of_text_is_an_error() -> None:
    from analysis.workflows.requirements import RequirementError, matching, parse_requirements

    with pytest.raises(RequirementError, match="compares integers"):
        matching(parse_requirements("status.phase > 1"), OBJECT)
