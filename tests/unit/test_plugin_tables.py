"""``list`` tables, kubectl ages and the completion scripts (run in a real bash)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rollouts.plugin import build_parser
from rollouts.plugin.ages import age, go_duration, human_duration
from rollouts.plugin.completions import bash_script, command_tree, fish_script, zsh_script
from rollouts.plugin.tables import experiment_table, rollout_table

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def rollout(name: str, namespace: str, strategy: dict[str, Any], **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "generation": 1},
        "spec": {"replicas": 4, "strategy": strategy},
        "status": {"observedGeneration": "1", **status},
    }


def test_rollout_table() -> None:
    rollouts = [
        rollout(
            "web",
            "shop",
            {"canary": {"steps": [{"setWeight": 25}, {"pause": {}}]}},
            phase="Paused",
            currentStepIndex=1,
            replicas=5,
            readyReplicas=5,
            updatedReplicas=1,
            availableReplicas=5,
        ),
        rollout(
            "api", "shop", {"blueGreen": {"activeService": "a"}}, phase="Healthy", replicas=4, readyReplicas=4
        ),
    ]
    assert rollout_table(rollouts, with_namespace=True) == (
        "NAMESPACE  NAME  STRATEGY   STATUS     STEP  SET-WEIGHT  READY  DESIRED  UP-TO-DATE  AVAILABLE\n"
        "shop       web   Canary     ॥ Paused   1/2   25          5/5    4        1           5\n"
        "shop       api   BlueGreen  ✔ Healthy  -     -           4/4    4        0           0\n"
    )


def test_experiment_table_counts_down_the_remaining_time() -> None:
    running = {
        "metadata": {"name": "exp", "creationTimestamp": "2026-05-01T11:50:00Z"},
        "spec": {"duration": "15m"},
        "status": {"phase": "Running", "availableAt": "2026-05-01T11:52:00Z"},
    }
    done = {
        "metadata": {"name": "old", "creationTimestamp": "2026-04-01T12:00:00Z"},
        "status": {"phase": "Successful"},
    }
    assert experiment_table([running, done], with_namespace=False, now=NOW) == (
        "NAME  STATUS        DURATION  REMAINING  AGE\n"
        "exp   ◌ Running     15m       7m         10m\n"
        "old   ✔ Successful  -         -          30d\n"
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"),
        (0, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 7200, "3d2h"),
        (400 * 86400, "400d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_duration(seconds: int, expected: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, "0s"), (45, "45s"), (600, "10m0s"), (5400, "1h30m0s"), (3601, "1h0m1s")]
)
def test_go_duration(seconds: int, expected: str) -> None:
    assert go_duration(timedelta(seconds=seconds)) == expected


def test_age() -> None:
    assert age("2026-05-01T11:59:00Z", NOW) == "60s"
    assert age(None, NOW) == "<unknown>"


def complete(script: str, words: list[str]) -> list[str]:
    typed = " ".join(words)
    ask = f"COMP_WORDS=({typed}); COMP_CWORD={len(words) - 1}; _kubectl_rollouts"
    program = f'{script}\n{ask}; echo "${{COMPREPLY[@]}}"'
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_bash_completion_of_commands_kinds_and_flags() -> None:
    script = bash_script(command_tree(build_parser()))
    assert "promote" in complete(script, ["kubectl-rollouts", "pro"])
    assert complete(script, ["kubectl-rollouts", "get", "r"]) == ["rollout", "ro", "rollouts"]
    assert complete(script, ["kubectl", "rollouts", "promote", "--fu"]) == ["--full"]
    assert "--success-on-pause" in complete(script, ["kubectl-rollouts", "status", "web", "--succ"])


def test_tree_knows_what_names_each_command_takes() -> None:
    tree = command_tree(build_parser())
    assert tree["promote"].names == "rollouts"
    assert tree["get experiment"].names == tree["retry exp"].names == "experiments"
    assert tree["terminate analysisrun"].names == ""
    assert {"get", "list", "lint", "plan", "status", "completion", "version"} <= set(tree[""].subcommands)


def test_zsh_and_fish_scripts() -> None:
    tree = command_tree(build_parser())
    assert zsh_script(tree).startswith("#compdef kubectl-rollouts\n")
    fish = fish_script(tree)
    assert "complete -c kubectl-rollouts -n '__fish_use_subcommand' -a promote" in fish
    assert "-l success-on-pause" in fish
