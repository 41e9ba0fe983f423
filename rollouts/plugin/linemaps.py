"""YAML documents together with the line of every field, so ``lint`` can say where a problem is.

PyYAML's composer gives nodes with start marks; we keep, per document, a map from a field path
(``("spec", "strategy", "canary", "steps", 0, "setWeight")``) to its 1-based line, and build the
document's value from the same nodes so the two can never disagree. For a mapping entry the line
is the key's (where a reader looks for the field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Document", "Path", "YamlError", "parse_documents", "resolve_line", "resolve_path"]

Path = tuple[str | int, ...]


class YamlError(ValueError):
    """The text is not YAML; ``line`` is where the parser gave up (1-based, 0 when unknown)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Document:
    """One document of the stream: its value, its first line and the line of each field."""

    value: Any
    line: int
    lines: dict[Path, int] = field(default_factory=dict)


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, str(key.value))
                lines.setdefault(child, key.start_mark.line + 1)
                _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines)


def parse_documents(text: str) -> list[Document]:
    """Every document (empty ones too, as ``None``), or `YamlError` for text that is not YAML."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        documents = []
        for node in nodes:
            if node is None:
                documents.append(Document(None, 0))
                continue
            loader = yaml.SafeLoader("")
            value = loader.construct_document(node)
            lines: dict[Path, int] = {(): node.start_mark.line + 1}
            _walk(node, (), lines)
            documents.append(Document(value, node.start_mark.line + 1, lines))
        return documents
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 0
        raise YamlError(f"not valid YAML: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise YamlError(f"not valid YAML: {error}", 0) from None


def resolve_line(document: Document, path: Sequence[str | int]) -> int:
    """The line of ``path``, or of its deepest existing ancestor (a missing field is reported
    where its parent is)."""
    return document.lines.get(resolve_path(document, path), document.line)


def resolve_path(document: Document, path: Sequence[str | int]) -> Path:
    """The deepest existing field along ``path``. Argo words strategy errors as
    ``spec.strategy.<field>``; the field is looked up under ``canary`` or ``blueGreen`` when it
    is not directly under ``strategy``."""
    found: Path = ()
    for part in path:
        candidate = (*found, part)
        if candidate not in document.lines and found == ("spec", "strategy"):
            candidate = next(
                (
                    (*found, strategy, part)
                    for strategy in ("canary", "blueGreen")
                    if (*found, strategy, part) in document.lines
                ),
                candidate,
            )
        if candidate not in document.lines:
            break
        found = candidate
    return found
