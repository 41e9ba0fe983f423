from pathlib import Path

import pytest

from rollouts.manifests import ManifestFileError, load_documents


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def test_loads_every_object_and_skips_blank_documents(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
    )
    assert [d["kind"] for d in load_documents(path)] == ["Service", "ConfigMap"]


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: v1\nkind: [unclosed\n")
    with pytest.raises(ManifestFileError, match=r"m\.yaml: not valid YAML"):
        load_documents(path)


@pytest.mark.parametrize("text", ["just a string\n", "- a\n- b\n", "kind: Service\nmetadata: {name: a}\n"])
def test_non_objects_are_rejected_with_their_position(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ManifestFileError, match="document 1 is not a Kubernetes object"):
        load_documents(path)


def test_examples_all_load() -> None:
    examples = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
    assert examples, "examples/ must not be empty"
    for example in examples:
        assert load_documents(example), example
