import pytest

from rollouts.devcluster import DevClusterError
from rollouts.devcluster.addons import PINS, parse_addon_names, select_crds, v1beta1_to_v1

# The shape of smi-sdk-go's crds/split.yaml (apiextensions v1beta1, top-level schema and columns).
SMI_V1BETA1 = {
    "apiVersion": "apiextensions.k8s.io/v1beta1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "trafficsplits.split.smi-spec.io"},
    "spec": {
        "group": "split.smi-spec.io",
        "scope": "Namespaced",
        "names": {"kind": "TrafficSplit", "plural": "trafficsplits"},
        "version": "v1alpha4",
        "versions": [
            {"name": "v1alpha4", "served": True, "storage": True},
            {"name": "v1alpha3", "served": False, "storage": False},
        ],
        "additionalPrinterColumns": [{"name": "Service", "type": "string", "JSONPath": ".spec.service"}],
        "subresources": {"status": {}},
        "validation": {"openAPIV3Schema": {"properties": {"spec": {"type": "object"}}}},
    },
}


def test_v1beta1_crd_becomes_a_structural_v1_crd():
    v1 = v1beta1_to_v1(SMI_V1BETA1)
    spec = v1["spec"]
    assert v1["apiVersion"] == "apiextensions.k8s.io/v1"
    assert not {"version", "validation", "additionalPrinterColumns", "subresources"} & spec.keys()
    assert [v["name"] for v in spec["versions"]] == ["v1alpha4", "v1alpha3"]
    for version in spec["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        assert schema["type"] == "object"
        assert schema["properties"]["spec"] == {"type": "object"}
        assert version["additionalPrinterColumns"] == [
            {"name": "Service", "type": "string", "jsonPath": ".spec.service"}
        ]
        assert version["subresources"] == {"status": {}}
    assert spec["versions"][1]["served"] is False  # upstream's choice is kept
    assert SMI_V1BETA1["apiVersion"] == "apiextensions.k8s.io/v1beta1", "input must not be modified"


def test_v1beta1_with_only_a_version_field():
    crd = {**SMI_V1BETA1, "spec": {k: v for k, v in SMI_V1BETA1["spec"].items() if k != "versions"}}
    versions = v1beta1_to_v1(crd)["spec"]["versions"]
    assert [(v["name"], v["served"], v["storage"]) for v in versions] == [("v1alpha4", True, True)]


def test_v1_crds_pass_through_and_unknown_versions_fail():
    v1 = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "spec": {}}
    assert v1beta1_to_v1(v1) is v1
    with pytest.raises(DevClusterError, match="unsupported CRD apiVersion"):
        v1beta1_to_v1({"apiVersion": "apiextensions.k8s.io/v2"})


def test_select_crds_keeps_crds_of_the_wanted_groups():
    docs = [
        None,
        {"kind": "ValidatingAdmissionPolicy"},
        {"kind": "CustomResourceDefinition", "spec": {"group": "networking.istio.io"}},
        {"kind": "CustomResourceDefinition", "spec": {"group": "security.istio.io"}},
    ]
    assert [d["spec"]["group"] for d in select_crds(docs, frozenset({"networking.istio.io"}))] == [
        "networking.istio.io"
    ]
    assert len(select_crds(docs, frozenset())) == 2


def test_parse_addon_names():
    assert parse_addon_names("gateway-api, istio,,gateway-api") == ("gateway-api", "istio")
    assert parse_addon_names("") == ()
    with pytest.raises(DevClusterError, match="unknown add-on 'linkerd'"):
        parse_addon_names("istio,linkerd")


def test_pins_are_release_versions_in_one_place():
    assert set(PINS) == {"gateway-api", "istio", "smi", "argo-workflows"}
    for addon in PINS.values():
        assert addon.version.startswith("v")
        assert addon.paths
