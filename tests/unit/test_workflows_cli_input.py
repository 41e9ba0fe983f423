"""``rollouts workflow run`` input checks: every bad input is exit code 2 with a clear message.

The commands are run through ``rollouts.cli.main`` for the cases that fail before any cluster
access, so the exit code and stderr are the ones a user sees; nothing is created in these cases
because the cluster is never reached (no kubeconfig is even read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rollouts.cli import main
from rollouts.workflowcli.commands import list_rows
from rollouts.workflowcli.manifests import (
    BadInputError,
    apply_parameters,
    load_workflow,
    parameter_file,
    parse_parameter,
)

PIPELINE = Path(__file__).resolve().parents[2] / "examples" / "workflows" / "pipeline.yaml"
MINIMAL = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: hello-}
spec:
  entrypoint: main
  arguments: {parameters: [{name: who, value: world}]}
  templates:
  - name: main
    container: {image: alpine, command: [echo, "{{workflow.parameters.who}}"]}
"""


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["workflow", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("who=moon", ("who", "moon")),
        ("who=a=b", ("who", "a=b")),
        ("who=", ("who", "")),
    ],
)
def test_parameters_split_at_the_first_equals_sign(text: str, expected: tuple[str, str]) -> None:
    assert parse_parameter(text) == expected


@pytest.mark.parametrize("text", ["who", "=moon", ""])
def test_a_parameter_without_a_name_or_value_is_refused(text: str) -> None:
    with pytest.raises(BadInputError, match="expected name=value"):
        parse_parameter(text)


def test_parameters_replace_arguments_or_are_added() -> None:
    manifest = {"spec": {"arguments": {"parameters": [{"name": "who", "value": "world"}]}}}
    applied = apply_parameters(manifest, [("who", "moon"), ("extra", "1")])
    assert applied["spec"]["arguments"]["parameters"] == [
        {"name": "who", "value": "moon"},
        {"name": "extra", "value": "1"},
    ]
    assert manifest["spec"]["arguments"]["parameters"][0]["value"] == "world"  # not modified


def test_a_parameter_file_is_a_flat_map_with_non_strings_as_json() -> None:
    assert parameter_file("p.yaml", "who: moon\ncount: 3\nlist: [1, 2]\n") == [
        ("who", "moon"),
        ("count", "3"),
        ("list", "[1,2]"),
    ]
    with pytest.raises(BadInputError, match="one map of name: value"):
        parameter_file("p.yaml", "- a\n- b\n")
    with pytest.raises(BadInputError, match=r"p.yaml \(line 2\): not valid YAML"):
        parameter_file("p.yaml", "who: moon\n  bad: [\n")


def test_the_example_pipeline_loads_with_parameters() -> None:
    workflow = load_workflow(str(PIPELINE), [("rows", "7")])
    assert workflow.spec.arguments is not None
    assert [(p.name, p.value) for p in workflow.spec.arguments.parameters or []] == [
        ("rows", "7"),
        ("delay", "0"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Workflow\napiVersion: argoproj.io/v1alpha1\nspec: [\n", "(line 4): not valid YAML"),
        ("apiVersion: v1\nkind: Pod\n", "not an Argo Workflow (kind 'Pod'"),
        ("- a\n", "not a Kubernetes object"),
        (MINIMAL + "---\n" + MINIMAL, "expected one Workflow manifest, found 2 documents"),
        (MINIMAL.replace("entrypoint: main", "entrypoint: nope"), "template name 'nope' undefined"),
        (MINIMAL.replace("entrypoint: main", "entrypoint: [x]"), "spec.entrypoint"),
        (MINIMAL.replace("container:", "containr:"), "templates.main template type unspecified"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(BadInputError) as raised:
        load_workflow("w.yaml", text=text)
    assert raised.value.exit_code == 2
    assert message in raised.value.message
    assert raised.value.message.startswith("w.yaml")


def test_every_validation_problem_is_listed_at_once() -> None:
    text = MINIMAL.replace("entrypoint: main", "entrypoint: nope").replace(
        "{{workflow.parameters.who}}", "{{workflow.parameters.missing}}"
    )
    with pytest.raises(BadInputError) as raised:
        load_workflow("w.yaml", text=text)
    assert raised.value.message.count("\n  - ") == 2


def test_a_missing_file_exits_2_with_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = run_cli(capsys, "run", str(tmp_path / "absent.yaml"), "--local")
    assert code == 2
    assert err == f"error: cannot read {tmp_path / 'absent.yaml'}: no such file\n"


def test_a_bad_parameter_flag_exits_2_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["workflow", "run", str(PIPELINE), "--local", "-p", "rows"])
    assert raised.value.code == 2
    assert 'invalid parameter "rows": expected name=value' in capsys.readouterr().err


def test_an_invalid_workflow_exits_2_without_contacting_a_cluster(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "w.yaml"
    manifest.write_text(MINIMAL.replace("entrypoint: main", "entrypoint: nope"))
    code, err = run_cli(capsys, "run", str(manifest), "--kubeconfig", str(tmp_path / "no-such-kubeconfig"))
    assert code == 2
    assert "template name 'nope' undefined" in err


def test_local_and_argo_exclude_each_other(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    manifest = tmp_path / "w.yaml"
    manifest.write_text(MINIMAL)
    code, err = run_cli(capsys, "run", str(manifest), "--local", "--argo")
    assert (code, err) == (2, "error: --local and --argo exclude each other\n")


def test_list_rows_follow_argo_list() -> None:
    now = datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    items = [
        {
            "metadata": {"name": "old", "namespace": "a", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "status": {
                "phase": "Failed",
                "startedAt": "2026-01-01T00:00:00Z",
                "finishedAt": "2026-01-01T00:01:30Z",
                "message": "child 'x' failed",
            },
        },
        {
            "metadata": {"name": "new", "namespace": "b", "creationTimestamp": "2026-01-01T00:09:00Z"},
            "spec": {"priority": 5},
            "status": {"phase": "Running", "startedAt": "2026-01-01T00:09:00Z"},
        },
    ]
    assert list_rows(items, now, namespaces=False) == [
        ["new", "Running", "1m", "1m", "5", ""],
        ["old", "Failed", "10m", "1m", "0", "child 'x' failed"],
    ]
    assert list_rows(items, now, namespaces=True)[0][0] == "b"
