"""``status``'s verdicts and the ``set image`` change, both pure."""

from __future__ import annotations

from typing import Any

import pytest

from rollouts.plugin.images import ImageError, parse_assignment, with_image
from rollouts.plugin.statuses import verdict


def rollout(
    phase: str, message: str = "", generation: int = 2, observed: str = "2", **status: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": {"strategy": {"blueGreen": {"activeService": "a"}}},
        "status": {"phase": phase, "message": message, "observedGeneration": observed, **status},
    }


def test_healthy_exits_zero() -> None:
    result = verdict(rollout("Healthy"))
    assert (result.line, result.exit_code, result.error) == ("Healthy", 0, "")


def test_degraded_exits_one_with_argos_message() -> None:
    result = verdict(rollout("Degraded", "RolloutAborted: Rollout aborted update to revision 2"))
    assert result.exit_code == 1
    assert result.error == (
        "The rollout is in a degraded state with message: "
        "RolloutAborted: Rollout aborted update to revision 2"
    )


def test_paused_keeps_waiting_unless_success_on_pause() -> None:
    paused = rollout("Paused", "BlueGreenPause", pauseConditions=[{"reason": "BlueGreenPause"}])
    assert verdict(paused).exit_code is None
    assert verdict(paused).line == "Paused - BlueGreenPause"
    assert verdict(paused, success_on_pause=True).exit_code == 0


def test_a_phase_of_an_older_generation_is_not_trusted() -> None:
    result = verdict(rollout("Healthy", generation=3, observed="2"))
    assert (result.line, result.exit_code) == (
        "Progressing - waiting for rollout spec update to be observed",
        None,
    )


def test_resumed_but_not_yet_noticed_is_progressing() -> None:
    result = verdict(rollout("Paused", "CanaryPauseStep", controllerPause=True), success_on_pause=True)
    assert (result.line, result.exit_code) == ("Progressing - waiting for rollout to unpause", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("web=nginx:1.27", ("web", "nginx:1.27")), ("*=r.io/a/b@sha256:00", ("*", "r.io/a/b@sha256:00"))],
)
def test_parse_assignment(text: str, expected: tuple[str, str]) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["web", "=nginx", "web=", "web= nginx", ""])
def test_bad_assignments(text: str) -> None:
    with pytest.raises(ImageError, match="expected CONTAINER=IMAGE"):
        parse_assignment(text)


TEMPLATE = {
    "spec": {
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [{"name": "web", "image": "nginx:1"}, {"name": "side", "image": "envoy:1"}],
        "ephemeralContainers": [{"name": "web", "image": "nginx:1"}],
    }
}


def test_set_one_container_everywhere_it_appears() -> None:
    updated = with_image(TEMPLATE, "web", "nginx:2")
    assert [c["image"] for c in updated["spec"]["containers"]] == ["nginx:2", "envoy:1"]
    assert updated["spec"]["ephemeralContainers"][0]["image"] == "nginx:2"
    assert TEMPLATE["spec"]["containers"][0]["image"] == "nginx:1"  # the input is not changed


def test_star_sets_every_container() -> None:
    updated = with_image(TEMPLATE, "*", "x:9")
    spec = updated["spec"]
    assert {
        c["image"] for key in ("initContainers", "containers", "ephemeralContainers") for c in spec[key]
    } == {"x:9"}


def test_unknown_container() -> None:
    with pytest.raises(ImageError, match='unable to find container named "db"'):
        with_image(TEMPLATE, "db", "postgres:16")
