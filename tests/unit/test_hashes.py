"""Pod-template and step hashes against vectors made by Go (hack/gojson).

The vector files hold, for each sample under tests/unit/data, the JSON a client
reads from the API server, the exact bytes Go's encoding/json produces after
decoding it into the real types (what Argo Rollouts v1.10 hashes), the legacy
bytes releases up to 1.8 hashed, and both sets of hashes. Python must
reproduce every byte.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from rollouts.gojson import GoJSONError, load_table, marshal
from rollouts.hashes import (
    fnv1a_32,
    legacy_pod_template_hash,
    legacy_pod_template_json,
    pod_template_hash,
    pod_template_json,
    safe_encode,
    step_hash,
    steps_json,
)

DATA = Path(__file__).parent / "data"
POD_VECTORS: dict[str, Any] = json.loads((DATA / "podhash_vectors.json").read_text())
STEP_VECTORS: dict[str, Any] = json.loads((DATA / "stephash_vectors.json").read_text())
COLLISION_COUNTS = {"nil": None, "0": 0, "1": 1, "5": 5, "-1": -1}


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def test_vector_files_cover_every_sample() -> None:
    pod_samples = {p.stem for p in (DATA / "podtemplates").glob("*.yaml")}
    step_samples = {p.stem for p in (DATA / "steps").glob("*.yaml")}
    assert {v["name"] for v in POD_VECTORS["vectors"]} == pod_samples
    assert {v["name"] for v in STEP_VECTORS["vectors"]} == step_samples
    assert {v["name"] for v in POD_VECTORS["invalid"]} == {
        p.stem for p in (DATA / "podtemplates" / "invalid").glob("*.yaml")
    }
    assert len(pod_samples) >= 15 and len(step_samples) >= 10


@pytest.mark.parametrize("vector", POD_VECTORS["vectors"], ids=_ids(POD_VECTORS["vectors"]))
def test_pod_template_bytes_match_go(vector: dict[str, Any]) -> None:
    table = load_table("gojson_podtemplatespec.json")
    assert marshal(vector["input"], table).decode() == vector["goJSON"]
    assert pod_template_json(vector["input"]).decode() == vector["goJSON"]
    assert legacy_pod_template_json(vector["input"]).decode() == vector["legacyJSON"]


@pytest.mark.parametrize("vector", POD_VECTORS["vectors"], ids=_ids(POD_VECTORS["vectors"]))
def test_pod_template_hashes_match_go(vector: dict[str, Any]) -> None:
    assert set(vector["hashes"]) == set(vector["legacyHashes"]) == set(COLLISION_COUNTS)
    for label, count in COLLISION_COUNTS.items():
        assert pod_template_hash(vector["input"], count) == vector["hashes"][label], label
        assert legacy_pod_template_hash(vector["input"], count) == vector["legacyHashes"][label], label


@pytest.mark.parametrize("vector", POD_VECTORS["invalid"], ids=_ids(POD_VECTORS["invalid"]))
def test_pod_templates_go_rejects_are_rejected(vector: dict[str, Any]) -> None:
    with pytest.raises(GoJSONError):
        pod_template_hash(vector["input"], None)


@pytest.mark.parametrize("vector", STEP_VECTORS["vectors"], ids=_ids(STEP_VECTORS["vectors"]))
def test_step_bytes_and_hashes_match_go(vector: dict[str, Any]) -> None:
    assert steps_json(vector["input"]).decode() == vector["goJSON"]
    assert step_hash(vector["input"]) == vector["hash"]


@pytest.mark.parametrize("vector", STEP_VECTORS["invalid"], ids=_ids(STEP_VECTORS["invalid"]))
def test_steps_go_rejects_are_rejected(vector: dict[str, Any]) -> None:
    with pytest.raises(GoJSONError):
        step_hash(vector["input"])


def test_reference_step_hash_vectors() -> None:
    # Reference §0.5, verified against Argo Rollouts' unit tests.
    assert step_hash([{"pause": {}}]) == "6b9b86fbd5"
    assert step_hash([{"pause": {}}, {"pause": {}}]) == "79c9b9f6bf"
    assert step_hash(None) == "5ffbfbbd64"
    assert step_hash([]) != step_hash(None)  # "[]" versus "null"


def test_upstream_pinned_legacy_pod_template_hash() -> None:
    # Argo Rollouts' utils/hash test pinned 7bb4fbc896 for this template: the value
    # controllers up to 1.8 produced, with "creationTimestamp":null in the bytes.
    # v1.10 no longer writes the null, so its hash of the same template differs.
    red = {
        "metadata": {"labels": {"name": "red"}},
        "spec": {
            "containers": [
                {
                    "name": "red",
                    "image": "red",
                    "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "securityContext": {},
        },
    }
    assert legacy_pod_template_json(red).startswith(b'{"metadata":{"creationTimestamp":null,"labels"')
    assert legacy_pod_template_hash(red, None) == "7bb4fbc896"
    assert legacy_pod_template_hash(red, 1) != "7bb4fbc896"
    assert pod_template_json(red).startswith(b'{"metadata":{"labels"')
    assert pod_template_hash(red, None) != "7bb4fbc896"


def test_hash_ignores_key_order_and_accepts_read_only_mappings() -> None:
    vector = next(v for v in POD_VECTORS["vectors"] if v["name"] == "containers-ports-env")
    template = vector["input"]

    def shuffled(value: object, rng: random.Random) -> object:
        if isinstance(value, dict):
            keys = list(value)
            rng.shuffle(keys)
            return MappingProxyType({k: shuffled(value[k], rng) for k in keys})
        if isinstance(value, list):
            return [shuffled(item, rng) for item in value]
        return value

    for seed in range(5):
        again = shuffled(template, random.Random(seed))
        assert pod_template_hash(again, None) == vector["hashes"]["nil"]  # type: ignore[arg-type]


def test_hashing_does_not_modify_the_input() -> None:
    for vector in POD_VECTORS["vectors"]:
        before = copy.deepcopy(vector["input"])
        pod_template_hash(vector["input"], 3)
        assert vector["input"] == before


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ({"metadata": {"annotations": {"when": datetime.datetime(2024, 1, 1)}}}, "metadata.annotations.when"),
        ({"spec": {"nodeSelector": {1: "a"}}}, "spec.nodeSelector"),
        ({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": "80"}]}]}}, "containerPort"),
        ({"spec": {"containers": {"a", "b"}}}, "spec.containers"),
        ({"spec": {"activeDeadlineSeconds": float("nan")}}, "spec.activeDeadlineSeconds"),
        ({"spec": {"priority": True}}, "spec.priority"),
    ],
)
def test_malformed_python_input_is_a_clear_error(template: dict[str, Any], path: str) -> None:
    with pytest.raises(GoJSONError, match=path.replace(".", r"\.")):
        pod_template_hash(template, None)


def test_error_names_the_json_path() -> None:
    template = {"spec": {"containers": [{"name": "a"}, {"name": "b", "ports": [{"containerPort": 1.5}]}]}}
    with pytest.raises(GoJSONError) as raised:
        pod_template_json(template)
    assert raised.value.path == "spec.containers[1].ports[0].containerPort"
    assert "int32" in str(raised.value)


def test_fnv1a_32_reference_values() -> None:
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert fnv1a_32(b"foobar") == 0xBF9CF968
    assert fnv1a_32(b"bar", fnv1a_32(b"foo")) == fnv1a_32(b"foobar")


def test_safe_encode_maps_digits_into_the_vowel_free_alphabet() -> None:
    assert safe_encode("0123456789") == "456789bcdf"
    assert safe_encode("") == ""
