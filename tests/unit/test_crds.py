"""Generated CRDs: in sync with the committed files, structural, and shaped as reference §0.1."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from rollouts.crds.cli import register
from rollouts.crds.generate import KINDS, all_crds, expected_files, stale_files, write_files
from rollouts.crds.schema import SchemaError, type_schema
from rollouts.crds.structural import structural_problems

REPO = Path(__file__).resolve().parents[2]
CRD_BY_KIND = {document["spec"]["names"]["kind"]: document for document in all_crds()}


def schema_of(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = CRD_BY_KIND[kind]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path (``.spec.steps[].pause``, ``.metadata.labels.*``)."""
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from nodes(child, f"{path}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from nodes(schema["additionalProperties"], f"{path}.*")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")


def node(kind: str, path: str) -> dict[str, Any]:
    found = dict(nodes(schema_of(kind)))
    assert path in found, f"{kind} schema has no {path}"
    return found[path]


def test_committed_files_equal_the_generated_ones() -> None:
    assert stale_files(REPO / "crds") == [], "run `rollouts crds generate` and commit crds/"
    assert sorted(path.name for path in (REPO / "crds").glob("*.yaml")) == sorted(expected_files())


def test_generation_does_not_depend_on_hash_seeds() -> None:
    script = (
        "from rollouts.crds.generate import expected_files; print(repr(sorted(expected_files().items())))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


@pytest.mark.parametrize("kind", sorted(CRD_BY_KIND))
def test_every_schema_is_structural(kind: str) -> None:
    assert structural_problems(schema_of(kind)) == []


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "object", "properties": {"a": {"description": "untyped"}}}, ".a: type is missing"),
        ({"type": "object", "properties": {"a": {"$ref": "#/x"}}}, ".a: keyword '$ref' is not allowed"),
        (
            {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "object"}]}}},
            ".a: anyOf is only allowed as the int-or-string pattern",
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "object", "properties": {}, "additionalProperties": {}}},
            },
            ".a: properties and additionalProperties are mutually exclusive",
        ),
        ({"type": "object", "properties": {"a": {"type": "array"}}}, ".a: an array needs items"),
        ({"type": "object", "properties": {"a": {"type": "map"}}}, ".a: unknown type 'map'"),
        (
            {"type": "object", "required": ["b"], "properties": {}},
            "<root>: required field 'b' is not a property",
        ),
        (
            {
                "type": "object",
                "properties": {"metadata": {"type": "object", "properties": {"x": {"type": "string"}}}},
            },
            ".metadata: only type object is allowed at the root metadata",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "integer", "x-kubernetes-int-or-string": True}}},
            ".a: an int-or-string node must not set type",
        ),
    ],
)
def test_the_structural_checker_catches_violations(schema: dict[str, Any], problem: str) -> None:
    assert problem in structural_problems(schema)


# Reference §0.1, plus the description texts Argo uses for its printer columns.
NAMES = {
    "Rollout": ("rollouts", ["ro"], "Namespaced"),
    "AnalysisTemplate": ("analysistemplates", ["at"], "Namespaced"),
    "ClusterAnalysisTemplate": ("clusteranalysistemplates", ["cat"], "Cluster"),
    "AnalysisRun": ("analysisruns", ["ar"], "Namespaced"),
    "Experiment": ("experiments", ["exp"], "Namespaced"),
}
COLUMNS = {
    "Rollout": [
        ("Desired", "integer", ".spec.replicas"),
        ("Current", "integer", ".status.replicas"),
        ("Up-to-date", "integer", ".status.updatedReplicas"),
        ("Available", "integer", ".status.availableReplicas"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ],
    "AnalysisTemplate": [("Age", "date", ".metadata.creationTimestamp")],
    "ClusterAnalysisTemplate": [("Age", "date", ".metadata.creationTimestamp")],
    "AnalysisRun": [("Status", "string", ".status.phase"), ("Age", "date", ".metadata.creationTimestamp")],
    "Experiment": [("Status", "string", ".status.phase"), ("Age", "date", ".metadata.creationTimestamp")],
}


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_names_scope_and_printer_columns(kind: str) -> None:
    plural, short_names, scope = NAMES[kind]
    document = CRD_BY_KIND[kind]
    assert document["apiVersion"] == "apiextensions.k8s.io/v1"
    assert document["metadata"]["name"] == f"{plural}.argoproj.io"
    spec = document["spec"]
    assert spec["group"] == "argoproj.io"
    assert spec["scope"] == scope
    assert spec["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "shortNames": short_names,
    }
    [version] = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    columns = [
        (column["name"], column["type"], column["jsonPath"]) for column in version["additionalPrinterColumns"]
    ]
    assert columns == COLUMNS[kind]


def test_only_rollouts_have_subresources() -> None:
    subresources = {
        kind: document["spec"]["versions"][0].get("subresources") for kind, document in CRD_BY_KIND.items()
    }
    assert subresources == {
        "Rollout": {
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.HPAReplicas",
                "labelSelectorPath": ".status.selector",
            },
        },
        "AnalysisTemplate": None,
        "ClusterAnalysisTemplate": None,
        "AnalysisRun": None,
        "Experiment": None,
        "WorkflowRun": None,  # our own group; the engine writes status with the object
        "CronWorkflow": None,  # our own group too; its controller writes status with the object
    }


def test_scale_subresource_paths_exist_with_the_right_types() -> None:
    assert node("Rollout", ".spec.replicas")["type"] == "integer"
    assert node("Rollout", ".status.HPAReplicas")["type"] == "integer"
    assert node("Rollout", ".status.selector")["type"] == "string"
    assert node("Rollout", ".status.observedGeneration")["type"] == "string"


def test_selector_is_immutable_and_nullable() -> None:
    selector = node("Rollout", ".spec.selector")
    assert selector["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": ".spec.selector is immutable"}
    ]
    assert selector["nullable"] is True


# The opaque blobs the brief and reference §0.1 name, and nothing else.
PRESERVED = {
    "Rollout": {
        ".spec.template",
        ".spec.strategy.canary.trafficRouting.plugins",
        ".spec.strategy.canary.steps[].plugin.config",
        ".status.canary.stepPluginStatuses[].status",
    },
    "AnalysisTemplate": {
        ".spec.metrics[].provider.job.spec",
        ".spec.metrics[].provider.plugin",
        ".spec.metrics[].provider.web.jsonBody",
        ".spec.metrics[].provider.workflow.spec",
    },
    "Experiment": {".spec.templates[].template"},
}
PRESERVED["ClusterAnalysisTemplate"] = PRESERVED["AnalysisTemplate"]
PRESERVED["AnalysisRun"] = PRESERVED["AnalysisTemplate"]


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_exactly_the_opaque_blobs_preserve_unknown_fields(kind: str) -> None:
    preserved = {
        path for path, schema in nodes(schema_of(kind)) if schema.get("x-kubernetes-preserve-unknown-fields")
    }
    assert preserved == PRESERVED[kind]
    for path in preserved:
        assert node(kind, path)["type"] == "object"


INT_OR_STRING = {
    "Rollout": {
        ".spec.strategy.canary.maxSurge",
        ".spec.strategy.canary.maxUnavailable",
        ".spec.strategy.blueGreen.maxUnavailable",
        ".spec.strategy.canary.steps[].pause.duration",
    },
    "AnalysisTemplate": {
        f".spec.metrics[].{name}"
        for name in (
            "count",
            "failureLimit",
            "inconclusiveLimit",
            "consecutiveErrorLimit",
            "consecutiveSuccessLimit",
        )
    }
    | {
        ".spec.metrics[].provider.cloudWatch.metricDataQueries[].period",
        ".spec.metrics[].provider.cloudWatch.metricDataQueries[].metricStat.period",
    },
    "Experiment": set(),
}
INT_OR_STRING["ClusterAnalysisTemplate"] = INT_OR_STRING["AnalysisTemplate"]
INT_OR_STRING["AnalysisRun"] = INT_OR_STRING["AnalysisTemplate"]


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_int_or_string_fields(kind: str) -> None:
    found = {path for path, schema in nodes(schema_of(kind)) if schema.get("x-kubernetes-int-or-string")}
    assert found == INT_OR_STRING[kind]
    for path in found:
        assert node(kind, path)["anyOf"] == [{"type": "integer"}, {"type": "string"}]


def test_required_fields_follow_upstream() -> None:
    assert schema_of("Rollout")["required"] == ["spec"]
    assert node("Rollout", ".spec.strategy.blueGreen")["required"] == ["activeService"]
    assert node("AnalysisTemplate", ".spec.metrics[]")["required"] == ["name", "provider"]
    assert node("AnalysisRun", ".spec")["required"] == ["metrics"]
    assert node("Experiment", ".spec.templates[]")["required"] == ["name", "selector", "template"]
    assert node("Rollout", ".status.conditions[]")["required"] == [
        "lastTransitionTime",
        "lastUpdateTime",
        "message",
        "reason",
        "status",
        "type",
    ]


def test_descriptions_come_from_the_model_docstrings() -> None:
    assert node("Rollout", ".spec.strategy.canary.maxSurge")["description"].startswith(
        "Pods above spec.replicas"
    )
    assert node("Rollout", ".spec")["description"] == "Desired state of a Rollout."
    assert node("AnalysisRun", ".status.metricResults[].measurements[].value")["description"]


def test_go_style_formats() -> None:
    assert node("Rollout", ".spec.minReadySeconds")["format"] == "int32"
    assert node("AnalysisTemplate", ".spec.metrics[].provider.prometheus.timeout")["format"] == "int64"
    assert node("Rollout", ".spec.restartAt")["format"] == "date-time"
    assert node("Rollout", ".status.conditions[].lastUpdateTime")["nullable"] is True
    assert node("AnalysisTemplate", ".spec.metrics[].provider.web.method")["enum"] == ["GET", "POST", "PUT"]
    datadog_version = node("AnalysisTemplate", ".spec.metrics[].provider.datadog.apiVersion")
    assert (datadog_version["enum"], datadog_version["default"]) == (["v1", "v2"], "v1")


@pytest.mark.parametrize(
    "annotation",
    [float | str, dict[int, str], set[str], Literal[1, 2], object, list[int | float]],
    ids=repr,
)
def test_types_without_a_structural_schema_are_refused(annotation: Any) -> None:
    with pytest.raises(SchemaError):
        type_schema(annotation)


def test_examples_use_only_fields_the_schemas_know() -> None:
    """The API server silently prunes unknown fields; catch that here for every example."""
    for path in sorted((REPO / "examples").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document and document.get("apiVersion") == "argoproj.io/v1alpha1":
                pruned = list(_pruned_paths(document, schema_of(document["kind"])))
                assert pruned == [], f"{path.name}: fields the API server would drop: {pruned}"


def _pruned_paths(value: Any, schema: dict[str, Any], path: str = "") -> Iterator[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields") or path == ".metadata":
        return
    if isinstance(value, dict):
        properties = schema.get("properties")
        for key, child in value.items():
            if properties is not None and key not in properties:
                yield f"{path}.{key}"
            elif properties is not None:
                yield from _pruned_paths(child, properties[key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                yield from _pruned_paths(child, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _pruned_paths(item, schema["items"], f"{path}[{index}]")


def test_the_pruning_walker_sees_unknown_fields() -> None:
    document = {"spec": {"strategy": {"canary": {"steps": [{"setWeigth": 20}]}}, "template": {"x": 1}}}
    assert list(_pruned_paths(document, schema_of("Rollout"))) == [".spec.strategy.canary.steps[0].setWeigth"]


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="rollouts")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def test_cli_generate_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("crds", "check", "--dir", str(tmp_path)) == 1
    assert run_cli("crds", "generate", "--dir", str(tmp_path)) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        definition.file_name for definition in KINDS
    )
    assert run_cli("crds", "check", "--dir", str(tmp_path)) == 0
    tampered = tmp_path / "rollout-crd.yaml"
    tampered.write_text(tampered.read_text().replace("shortNames:\n    - ro", "shortNames:\n    - rollo"))
    capsys.readouterr()
    assert run_cli("crds", "check", "--dir", str(tmp_path)) == 1
    assert "rollout-crd.yaml: out of date" in capsys.readouterr().err
    assert write_files(tmp_path) == [tampered]
    assert run_cli("crds", "check", "--dir", str(tmp_path)) == 0


def test_cli_generate_reports_an_unusable_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    assert run_cli("crds", "generate", "--dir", str(not_a_directory)) == 1
    assert f"cannot write CRDs to {not_a_directory}" in capsys.readouterr().err
    assert not_a_directory.read_text() == "x"


def test_cli_install_reports_a_bad_kubeconfig(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    assert run_cli("crds", "install", "--kubeconfig", str(broken)) == 1
    assert "cannot load kubeconfig" in capsys.readouterr().err


def test_committed_yaml_parses_back_to_the_crds() -> None:
    for definition in KINDS:
        text = (REPO / "crds" / definition.file_name).read_text(encoding="utf-8")
        assert yaml.safe_load(text) == CRD_BY_KIND[definition.kind]
