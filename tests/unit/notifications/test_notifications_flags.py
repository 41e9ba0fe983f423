"""``rollouts controller`` flags for notifications and the namespace the settings are read from."""

from __future__ import annotations

import pytest

from rollouts.cli import build_parser
from rollouts.controller.cli import config_from_args


def config(*argv: str) -> tuple[bool, str, bool]:
    parsed = config_from_args(build_parser().parse_args(["controller", *argv]))
    return parsed.notifications, parsed.notifications_namespace, parsed.self_service_notifications


def test_notifications_are_on_and_read_from_the_controllers_namespace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", "rollouts-system")
    assert config() == (True, "rollouts-system", False)


def test_flags_turn_them_off_or_add_self_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    assert config("--no-notifications")[0] is False
    assert config("--self-service-notification-enabled")[2] is True
