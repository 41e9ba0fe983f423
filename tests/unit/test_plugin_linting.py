"""``lint``: broken manifests (tests/unit/data/plugin/lint), each with its exact findings and lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from rollouts.plugin.linemaps import YamlError, parse_documents, resolve_line
from rollouts.plugin.linting import lint_text, split_path

BROKEN = Path(__file__).parent / "data" / "plugin" / "lint"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def broken_manifests() -> list[Path]:
    return sorted(BROKEN.glob("*.yaml"))


@pytest.mark.parametrize("path", broken_manifests(), ids=lambda p: p.name)
def test_broken_manifest(path: Path) -> None:
    """Each NAME.yaml has NAME.expected: its findings, one per line, ``LINE: OBJECT: message``."""
    expected = path.with_suffix(".expected").read_text().splitlines()
    assert expected, f"{path.name}: a broken manifest must expect at least one finding"
    assert [str(finding) for finding in lint_text(path.read_text())] == expected


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_are_clean(path: Path) -> None:
    assert lint_text(path.read_text()) == []


def test_line_map_follows_argo_strategy_paths() -> None:
    (document,) = parse_documents("spec:\n  strategy:\n    blueGreen:\n      activeService: a\n")
    assert resolve_line(document, split_path("spec.strategy.activeService")) == 4
    assert resolve_line(document, split_path("spec.strategy.missing")) == 2
    assert resolve_line(document, ()) == 1


def test_split_path() -> None:
    assert split_path("spec.steps[12].pause.duration") == ("spec", "steps", 12, "pause", "duration")


def test_yaml_error_has_a_line() -> None:
    with pytest.raises(YamlError) as raised:
        parse_documents("a: 1\nb: [\n")
    assert raised.value.line == 3


def test_empty_documents_are_skipped() -> None:
    assert lint_text("---\n---\n") == []
