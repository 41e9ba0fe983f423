"""The generated CRDs on a real API server: install, discovery, examples, schema rejections.

Everything here talks to the devcluster's kube-apiserver (fixtures ``api_client`` and
``namespace`` from ``conftest.py``). Examples are dry-run on the server (``dryRun=All``) with
strict field validation, and the object the server returns is compared with the manifest, so a
field our schema would silently prune fails the test instead of vanishing.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient, ApiextensionsV1Api, CustomObjectsApi
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from rollouts.crds.generate import GROUP, KINDS, VERSION, all_crds
from rollouts.crds.install import CrdInstallError, install_crds

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
# Argo's five kinds; our own kinds (e.g. WorkflowRun) live in another group and are checked below.
PLURALS = {definition.kind: definition.plural for definition in KINDS if definition.group == GROUP}


@pytest.fixture(scope="module")
def crds(api_client: ApiClient) -> list[str]:
    """Every CRD we generate (Argo's five and our own), installed and Established."""
    return install_crds(api_client, timeout=120)


def get_json(api_client: ApiClient, path: str) -> Any:
    request = api_client.param_serialize(
        "GET", path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"]
    )
    response: Any = api_client.call_api(*request)
    response.read()
    assert response.status == 200, f"GET {path}: {response.status}"
    return json.loads(response.data)


def objects(api_client: ApiClient) -> Any:
    """The custom objects API; its methods return untyped JSON."""
    return CustomObjectsApi(api_client)


def crd_api(api_client: ApiClient) -> Any:
    return ApiextensionsV1Api(api_client)


def rollout(name: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
        "strategy": {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}]}},
    }
    base.update(spec)
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Rollout", "metadata": {"name": name}, "spec": base}


def create(api_client: ApiClient, namespace: str, body: dict[str, Any], dry_run: bool = False) -> Any:
    return objects(api_client).create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURALS[body["kind"]],
        body,
        dry_run="All" if dry_run else None,
        field_validation="Strict",
    )


def rejection(api_client: ApiClient, namespace: str, body: dict[str, Any], status: int = 422) -> str:
    """The API server's message for a manifest it must refuse (422 Invalid; 400 for decoding errors)."""
    with pytest.raises(ApiException) as caught:
        create(api_client, namespace, body, dry_run=True)
    assert caught.value.status == status, caught.value.body
    message: str = json.loads(caught.value.body or "{}")["message"]
    return message


def test_all_five_crds_are_established_with_our_schemas(api_client: ApiClient, crds: list[str]) -> None:
    assert sorted(crds) == sorted(definition.name for definition in KINDS)
    api = crd_api(api_client)
    for expected in all_crds():
        served = api.read_custom_resource_definition(expected["metadata"]["name"])
        conditions = {condition.type: condition.status for condition in served.status.conditions}
        assert conditions["Established"] == "True"
        assert conditions["NamesAccepted"] == "True"
        assert served.spec.names.short_names == expected["spec"]["names"]["shortNames"]


def test_installing_again_is_a_no_op(api_client: ApiClient, crds: list[str]) -> None:
    before = {
        name: crd_api(api_client).read_custom_resource_definition(name).metadata.generation for name in crds
    }
    assert install_crds(api_client) == crds
    after = {
        name: crd_api(api_client).read_custom_resource_definition(name).metadata.generation for name in crds
    }
    assert after == before


ARGO_WORKFLOWS_KINDS = {"workflows", "workflowtemplates", "clusterworkflowtemplates"}


def test_discovery_lists_short_names_and_subresources(api_client: ApiClient, crds: list[str]) -> None:
    resources = {
        resource["name"]: resource
        for resource in get_json(api_client, f"/apis/{GROUP}/{VERSION}")["resources"]
    }
    short_names = {name: resources[name].get("shortNames") for name in PLURALS.values()}
    assert short_names == {
        "rollouts": ["ro"],
        "analysistemplates": ["at"],
        "clusteranalysistemplates": ["cat"],
        "analysisruns": ["ar"],
        "experiments": ["exp"],
    }
    assert resources["clusteranalysistemplates"]["namespaced"] is False
    assert resources["rollouts"]["namespaced"] is True
    # Argo Workflows' own CRDs share the group (the devcluster installs them as an add-on)
    rollouts_kinds = {
        name: resource for name, resource in resources.items() if name not in ARGO_WORKFLOWS_KINDS
    }
    subresources = sorted(name for name in rollouts_kinds if "/" in name)
    assert subresources == ["rollouts/scale", "rollouts/status"]
    assert sorted(name for name in rollouts_kinds if "/" not in name) == sorted(PLURALS.values())
    ours = get_json(api_client, "/apis/workflows.rollouts.dev/v1alpha1")["resources"]
    assert {resource["name"]: resource["namespaced"] for resource in ours if "/" not in resource["name"]} == {
        "workflowruns": True,
        "cronworkflows": True,
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_passes_server_side_dry_run_unchanged(
    api_client: ApiClient, crds: list[str], namespace: str, path: Path
) -> None:
    documents = [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]
    assert documents, f"{path.name} holds no manifest"
    dynamic: Any = DynamicClient(api_client)  # type: ignore[no-untyped-call]
    for document in documents:
        resource = dynamic.resources.get(api_version=document["apiVersion"], kind=document["kind"])
        created = resource.create(
            body=copy.deepcopy(document),
            namespace=namespace if resource.namespaced else None,
            dry_run="All",
            query_params=[("fieldValidation", "Strict")],
        ).to_dict()
        if document["apiVersion"] == f"{GROUP}/{VERSION}":
            assert created["spec"] == document["spec"], "the server pruned or defaulted fields"
            assert created["metadata"]["name"] == document["metadata"]["name"]


def test_malformed_rollout_replicas_is_a_schema_error(
    api_client: ApiClient, crds: list[str], namespace: str
) -> None:
    message = rejection(api_client, namespace, rollout("bad-replicas", replicas="abc"))
    assert "spec.replicas" in message
    assert "must be of type integer" in message


def test_malformed_rollout_step_is_a_schema_error(
    api_client: ApiClient, crds: list[str], namespace: str
) -> None:
    body = rollout("bad-step", strategy={"canary": {"steps": [{"setWeight": "half"}], "maxSurge": 1.5}})
    message = rejection(api_client, namespace, body)
    assert "spec.strategy.canary.steps[0].setWeight" in message
    assert "spec.strategy.canary.maxSurge" in message


def test_malformed_analysis_template_is_a_schema_error(
    api_client: ApiClient, crds: list[str], namespace: str
) -> None:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "bad-template"},
        "spec": {
            "metrics": [
                {"name": "no-provider", "successCondition": "result > 1"},
                {
                    "name": "bad-count",
                    "count": True,
                    "provider": {"web": {"url": "http://x", "method": "DELETE"}},
                },
            ]
        },
    }
    message = rejection(api_client, namespace, body)
    assert "spec.metrics[0].provider: Required value" in message
    assert "spec.metrics[1].count" in message
    assert "spec.metrics[1].provider.web.method: Unsupported value" in message


def test_unknown_fields_are_refused_under_strict_validation(
    api_client: ApiClient, crds: list[str], namespace: str
) -> None:
    body = rollout("typo")
    body["spec"]["strategy"]["canary"]["steps"][0]["setWeigth"] = 10
    message = rejection(api_client, namespace, body, status=400)
    assert 'unknown field "spec.strategy.canary.steps[0].setWeigth"' in message


def test_opaque_blobs_keep_unknown_fields(api_client: ApiClient, crds: list[str], namespace: str) -> None:
    body = rollout("blobs")
    body["spec"]["template"]["spec"]["futureField"] = {"kept": True}
    body["spec"]["strategy"]["canary"]["steps"].append(
        {"plugin": {"name": "x/y", "config": {"any": [1, {"a": None}]}}}
    )
    body["spec"]["strategy"]["canary"]["trafficRouting"] = {
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "r"}}
    }
    created = create(api_client, namespace, body, dry_run=True)
    assert created["spec"]["template"]["spec"]["futureField"] == {"kept": True}
    assert created["spec"]["strategy"] == body["spec"]["strategy"]


def test_int_or_string_and_nullable_selector_are_accepted(
    api_client: ApiClient, crds: list[str], namespace: str
) -> None:
    body = rollout(
        "workload-ref",
        selector=None,
        template={},
        workloadRef={"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        strategy={
            "canary": {"maxSurge": 1, "maxUnavailable": "10%", "steps": [{"pause": {"duration": "1h"}}]}
        },
    )
    created = create(api_client, namespace, body, dry_run=True)
    assert created["spec"]["strategy"]["canary"]["maxSurge"] == 1
    assert created["spec"]["strategy"]["canary"]["maxUnavailable"] == "10%"


def test_selector_is_immutable(api_client: ApiClient, crds: list[str], namespace: str) -> None:
    create(api_client, namespace, rollout("immutable"))
    api = objects(api_client)
    with pytest.raises(ApiException) as caught:
        api.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            "rollouts",
            "immutable",
            {"spec": {"selector": {"matchLabels": {"app": "x"}}}},
        )
    assert caught.value.status == 422
    assert ".spec.selector is immutable" in json.loads(caught.value.body or "{}")["message"]


def test_scale_and_status_subresources(api_client: ApiClient, crds: list[str], namespace: str) -> None:
    api = objects(api_client)
    create(api_client, namespace, rollout("scaled"))
    api.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        "rollouts",
        "scaled",
        {
            "status": {
                "HPAReplicas": 2,
                "selector": "app=scaled",
                "observedGeneration": "1",
                "phase": "Healthy",
            }
        },
    )
    scale = api.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, "rollouts", "scaled")
    assert (scale["spec"]["replicas"], scale["status"]["replicas"], scale["status"]["selector"]) == (
        2,
        2,
        "app=scaled",
    )
    api.patch_namespaced_custom_object_scale(
        GROUP, VERSION, namespace, "rollouts", "scaled", {"spec": {"replicas": 4}}
    )
    stored = api.get_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts", "scaled")
    assert stored["spec"]["replicas"] == 4
    assert stored["status"]["observedGeneration"] == "1"
    # A write to the main resource must not change status (status subresource enabled).
    api.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "rollouts", "scaled", {"status": {"phase": "X"}}
    )
    stored = api.get_namespaced_custom_object(GROUP, VERSION, namespace, "rollouts", "scaled")
    assert stored["status"]["phase"] == "Healthy"


TEST_GROUP = "install-test.rollouts.example"


def scratch_crd(plural: str, short_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    kind = plural.capitalize().rstrip("s")
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{TEST_GROUP}"},
        "spec": {
            "group": TEST_GROUP,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "shortNames": [short_name]},
            "versions": [
                {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
            ],
        },
    }


@pytest.fixture
def cleanup_test_crds(api_client: ApiClient) -> Any:
    names: list[str] = []
    yield names
    for name in names:
        try:
            crd_api(api_client).delete_custom_resource_definition(name)
        except ApiException as error:
            if error.status != 404:
                raise


def test_install_reports_a_schema_the_server_refuses(
    api_client: ApiClient, cleanup_test_crds: list[str]
) -> None:
    broken = scratch_crd(
        "brokens", "brk", {"type": "object", "properties": {"spec": {"description": "no type"}}}
    )
    cleanup_test_crds.append(broken["metadata"]["name"])
    with pytest.raises(CrdInstallError) as caught:
        install_crds(api_client, [broken])
    assert str(caught.value).startswith(f"applying CRD brokens.{TEST_GROUP} failed: ")
    assert "spec.validation.openAPIV3Schema.properties[spec].type: Required value" in str(caught.value)


def test_install_fails_fast_when_names_are_not_accepted(
    api_client: ApiClient, cleanup_test_crds: list[str]
) -> None:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    first, second = scratch_crd("firsts", "same", schema), scratch_crd("seconds", "same", schema)
    cleanup_test_crds.extend([first["metadata"]["name"], second["metadata"]["name"]])
    install_crds(api_client, [first])
    with pytest.raises(CrdInstallError) as caught:
        install_crds(api_client, [second], timeout=60)
    assert f"CRD seconds.{TEST_GROUP}: names not accepted: " in str(caught.value)
    assert '"same" is already in use' in str(caught.value)
