"""The plugin's commands end to end without a cluster: offline commands, flag errors, bad input.

Every malformed input gets a message on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollouts.plugin import build_parser, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BROKEN = Path(__file__).parent / "data" / "plugin" / "lint"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse rejects a flag
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_of_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "-f", str(EXAMPLES / "canary-basic.yaml"))
    assert code == 0
    assert "0     setWeight: 20                 1       4       20" in out


def test_plan_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "-f", str(EXAMPLES / "bluegreen.yaml"), "-o", "json")
    assert code == 0
    (plan,) = json.loads(out)
    assert plan["name"] == "bluegreen"
    assert plan["rows"][-1]["new"] == 3


def test_plan_refuses_an_invalid_rollout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "-f", str(BROKEN / "bad-setweight.yaml"))
    assert (code, out) == (1, "")
    assert err == (
        "error: Rollout 'web' is invalid (see `kubectl rollouts lint`): spec.strategy.steps[2].setWeight: "
        "Invalid value: 120: SetWeight needs to be between 0 and 100\n"
    )


def test_plan_without_rollouts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "svc.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    assert run(capsys, "plan", "-f", str(path))[2] == f"error: {path}: no Rollout found\n"
    assert run(capsys, "plan", "-f", str(EXAMPLES / "bluegreen.yaml"), "--name", "x")[2].endswith(
        "no Rollout named 'x' found\n"
    )


def test_lint_reports_with_file_and_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "bad-setweight.yaml"
    code, out, _ = run(capsys, "lint", "-f", str(path))
    assert code == 1
    assert out.startswith(f"{path}:21: Rollout/web: spec.strategy.steps[2].setWeight: Invalid value: 120")


def test_lint_clean_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "lint", "-f", str(EXAMPLES / "canary-basic.yaml"))[:2] == (
        0,
        f"{EXAMPLES / 'canary-basic.yaml'}: no problems found\n",
    )
    code, out, _ = run(capsys, "lint", "-f", str(BROKEN / "no-strategy.yaml"), "-o", "json")
    assert code == 1
    assert [(f["line"], f["path"]) for f in json.loads(out)] == [
        (5, "spec.strategy.strategy"),
        (11, "spec.template.metadata.labels"),
    ]


@pytest.mark.parametrize("command", ["lint", "plan", "create"])
def test_unreadable_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str) -> None:
    missing = tmp_path / "missing.yaml"
    assert run(capsys, command, "-f", str(missing))[::2] == (
        1,
        f"error: cannot read {missing}: no such file\n",
    )
    assert run(capsys, command, "-f", str(tmp_path))[::2] == (
        1,
        f"error: cannot read {tmp_path}: it is a directory\n",
    )
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    assert run(capsys, command, "-f", str(binary))[::2] == (
        1,
        f"error: cannot read {binary}: not a UTF-8 text file\n",
    )


def test_create_checks_every_object_before_connecting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # --kubeconfig points nowhere: reaching it would be a different error
    nowhere = ["--kubeconfig", str(tmp_path / "none")]
    service = tmp_path / "svc.yaml"
    service.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    assert run(capsys, "create", "-f", str(service), *nowhere)[2] == (
        f"error: {service}:1: v1 Service is not an Argo Rollouts kind; use kubectl create for it\n"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec: {replicas: x}\n"
    )
    assert run(capsys, "create", "-f", str(bad), *nowhere)[2] == (
        f"error: {bad}:1: Rollout 'web' is invalid: spec.replicas: Input should be a valid integer, "
        "unable to parse string as an integer\n"
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1\n")
    assert run(capsys, "create", "-f", str(broken), *nowhere)[2].startswith(
        f"error: {broken}:2: not valid YAML"
    )


def test_a_missing_kubeconfig_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "promote", "web", "--kubeconfig", str(tmp_path / "none"))
    assert code == 1
    assert err.startswith("error: cannot load the kubeconfig:")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["restart", "web", "--in", "5 minutes"], 'invalid duration "5 minutes"'),
        (["restart", "web", "--in=-5m"], 'invalid duration "-5m": must not be negative'),
        (["status", "web", "--timeout", "soon"], 'invalid duration "soon"'),
        (["status", "web", "--watch=maybe"], 'invalid boolean "maybe"'),
        (["undo", "web", "--to-revision", "-1"], 'invalid number "-1": must not be negative'),
        (["get", "rollout", "web", "--timeout-seconds", "x"], 'invalid number "x"'),
        (["get", "pod", "web"], "invalid choice: 'pod'"),
        (["set", "image", "web"], "the following arguments are required: CONTAINER=IMAGE"),
    ],
)
def test_bad_flag_values(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


def test_bad_image_assignment_before_any_request(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "set", "image", "web", "nginx", "--kubeconfig", str(tmp_path / "none"))
    assert (code, err) == (
        1,
        'error: invalid image assignment "nginx": expected CONTAINER=IMAGE (CONTAINER may be *)\n',
    )


def test_every_command_has_help_with_examples() -> None:
    parser = build_parser()
    from rollouts.plugin.completions import command_tree

    leaves = [path for path, entry in command_tree(parser).items() if path and not entry.subcommands]
    assert {"promote", "get rollout", "status", "lint", "plan", "set image", "completion", "version"} <= set(
        leaves
    )
    for path in leaves:
        if path == "version":
            continue
        with pytest.raises(SystemExit):
            parser.parse_args([*path.split(), "--help"])


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "status", "--help")
    assert code == 0
    assert "kubectl rollouts status guestbook --timeout 10m" in out
    assert "--kubeconfig" in out and "--context" in out and "--namespace" in out


def test_completion_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "completion", "bash")
    assert code == 0 and "complete -F _kubectl_rollouts kubectl-rollouts" in out
    assert run(capsys, "completion", "tcsh")[0] == 2
    assert run(capsys, "version", "--short")[1].startswith("kubectl-rollouts: v")
