"""``rollouts controller --workflow-controller/--no-workflow-controller`` and its environment default."""

from __future__ import annotations

import pytest

from rollouts.cli import build_parser
from rollouts.controller.cli import config_from_args, run
from rollouts.controller.settings import WORKFLOW_CONTROLLER_ENV, workflow_controller_default


def enabled(*argv: str) -> bool:
    return config_from_args(build_parser().parse_args(["controller", *argv])).workflow_controller


def test_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKFLOW_CONTROLLER_ENV, raising=False)
    assert enabled() is True
    assert enabled("--no-workflow-controller") is False


@pytest.mark.parametrize(
    ("value", "expected"), [("false", False), ("No", False), ("0", False), ("TRUE", True)]
)
def test_the_environment_sets_the_default(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv(WORKFLOW_CONTROLLER_ENV, value)
    assert enabled() is expected


def test_the_flag_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WORKFLOW_CONTROLLER_ENV, "false")
    assert enabled("--workflow-controller") is True
    monkeypatch.setenv(WORKFLOW_CONTROLLER_ENV, "true")
    assert enabled("--no-workflow-controller") is False


def test_a_malformed_environment_value_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match="ROLLOUTS_WORKFLOW_CONTROLLER must be true or false, not 'off-ish'"):
        workflow_controller_default({WORKFLOW_CONTROLLER_ENV: "off-ish"})
    monkeypatch.setenv(WORKFLOW_CONTROLLER_ENV, "off-ish")
    assert run(build_parser().parse_args(["controller"])) == 2
    assert "must be true or false, not 'off-ish'" in capsys.readouterr().out
    # the flag alone decides, so the bad value is not even read
    assert enabled("--no-workflow-controller") is False
