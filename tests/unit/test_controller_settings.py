"""kopf settings and ``rollouts controller`` flags (`rollouts.controller.settings`, `.cli`)."""

from __future__ import annotations

import argparse

import kopf
import pytest

import traffic
from rollouts.cli import build_parser
from rollouts.controller.cli import config_from_args
from rollouts.controller.settings import ControllerConfig, instance_selector, operator_settings


def selectors(settings: kopf.OperatorSettings) -> dict[str, str]:
    return {selector.any_name or "": value for selector, value in settings.watching.label_selectors.items()}


def test_kopf_writes_nothing_under_its_own_domain_and_posts_no_events() -> None:
    settings = operator_settings(ControllerConfig())
    assert settings.persistence.finalizer == "rollouts.dev/finalizer"
    assert settings.persistence.progress_storage.prefix == "rollouts.dev"
    assert settings.persistence.diffbase_storage.prefix == "rollouts.dev"
    assert settings.posting.enabled is False
    assert settings.peering.standalone is True


def test_watches_are_filtered_on_the_server() -> None:
    found = selectors(operator_settings(ControllerConfig()))
    assert found["rollouts"] == "!argo-rollouts.argoproj.io/controller-instance-id"
    assert found["analysisruns"] == found["experiments"] == found["rollouts"]
    assert found["replicasets"] == "rollouts-pod-template-hash"
    sharded = selectors(operator_settings(ControllerConfig(instance_id="blue")))
    assert sharded["rollouts"] == "argo-rollouts.argoproj.io/controller-instance-id=blue"


def test_instance_selectors_follow_section_0_2() -> None:
    assert instance_selector("") == "!argo-rollouts.argoproj.io/controller-instance-id"
    assert instance_selector("x") == "argo-rollouts.argoproj.io/controller-instance-id=x"


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["controller", *argv])


def test_defaults_match_argos_controller() -> None:
    config = config_from_args(parse())
    assert config == ControllerConfig(
        namespaces=(), instance_id="", resync_seconds=900.0, metrics_port=8090, healthz_port=8080
    )


def test_argo_spellings_of_the_flags_are_accepted() -> None:
    args = parse("--loglevel", "debug", "--logformat", "json", "--metricsPort", "9", "--healthzPort", "0")
    config = config_from_args(args)
    assert (args.log_level, args.log_format, config.metrics_port, config.healthz_port) == (
        "debug",
        "json",
        9,
        0,
    )


def test_routing_api_versions_default_to_argos_istio_and_the_served_traffic_split() -> None:
    settings = config_from_args(parse()).traffic_settings
    assert settings == traffic.TrafficSettings(istio_api_version="v1alpha3", smi_api_version=None)


def test_routing_api_versions_are_taken_from_the_flags() -> None:
    config = config_from_args(parse("--istio-api-version", "v1", "--traffic-split-api-version", "v1alpha2"))
    assert config.traffic_settings == traffic.TrafficSettings(
        istio_api_version="v1", smi_api_version="v1alpha2"
    )


def test_namespaces_repeat_and_namespaced_means_our_own(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_from_args(parse("--namespace", "a", "--namespace", "b", "--namespace", "a")).namespaces == (
        "a",
        "b",
    )
    monkeypatch.setenv("POD_NAMESPACE", "rollouts-system")
    assert config_from_args(parse("--namespaced")).namespaces == ("rollouts-system",)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--metrics-port", "-1"), "--metrics-port must be between 0 and 65535"),
        (("--healthz-port", "65536"), "--healthz-port must be between 0 and 65535"),
        (("--rollout-resync", "-5"), "--rollout-resync must be a positive number"),
        (("--istio-api-version", "networking.istio.io/v1"), "--istio-api-version must be an API version"),
        (("--istio-api-version", ""), "--istio-api-version must be an API version"),
        (("--traffic-split-api-version", "v1alpha"), "--traffic-split-api-version must be an API version"),
    ],
)
def test_bad_values_are_refused(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config_from_args(parse(*argv))


def test_unknown_log_levels_are_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        parse("--log-level", "chatty")
