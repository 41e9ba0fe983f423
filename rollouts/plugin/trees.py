"""Text for ``get rollout`` and ``get experiment``: the summary block and the tree table.

Pure functions from `info` data to a string. Column widths are computed on the plain text and
colour codes are added after padding, so alignment is the same with and without colour.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rollouts.plugin.icons import KIND_ICONS, status_cell, tone
from rollouts.plugin.info import ExperimentInfo, Node, RolloutInfo
from rollouts.plugin.terminal import Palette

__all__ = ["render_experiment", "render_rollout", "render_tree"]

_LABEL_WIDTH = 17
_HEADERS = ("NAME", "KIND", "STATUS", "AGE", "INFO")


def _field(label: str, value: str, indent: int = 0) -> str:
    return f"{' ' * indent}{label + ':':<{_LABEL_WIDTH - indent}}{value}".rstrip()


def _status(status: str, palette: Palette) -> str:
    return palette.paint(status_cell(status), tone(status))


def _images(images: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    lines = []
    for position, (image, roles) in enumerate(images):
        text = f"{image} ({', '.join(roles)})" if roles else image
        lines.append(_field("Images", text) if position == 0 else " " * _LABEL_WIDTH + text)
    return lines or [_field("Images", "")]


def _rows(node: Node, prefix: str, child_prefix: str) -> Iterator[tuple[str, Node]]:
    yield f"{prefix}{KIND_ICONS.get(node.kind, '?')} {node.name}", node
    for position, child in enumerate(node.children):
        last = position == len(node.children) - 1
        yield from _rows(
            child, child_prefix + ("└──" if last else "├──"), child_prefix + ("   " if last else "│  ")
        )


def render_tree(root: Node, palette: Palette) -> list[str]:
    """The NAME/KIND/STATUS/AGE/INFO table, tree drawn in the NAME column."""
    rows = list(_rows(root, "", ""))
    cells = [
        (
            name,
            "" if node.kind == "Revision" else node.kind,
            status_cell(node.status, node.health),
            node.age,
            ",".join(node.info),
        )
        for name, node in rows
    ]
    widths = [max(len(header), *(len(cell[i]) for cell in cells)) for i, header in enumerate(_HEADERS)]
    lines = ["  ".join(f"{h:<{w}}" for h, w in zip(_HEADERS, widths, strict=True)).rstrip()]
    for (name, kind, status, node_age, info), (_, node) in zip(cells, rows, strict=True):
        padded_status = f"{status:<{widths[2]}}"
        if status:
            padded_status = palette.paint(status, tone(node.health or node.status)) + " " * (
                widths[2] - len(status)
            )
        line = f"{name:<{widths[0]}}  {kind:<{widths[1]}}  {padded_status}  {node_age:<{widths[3]}}  {info}"
        lines.append(line.rstrip())
    return lines


def render_rollout(info: RolloutInfo, palette: Palette | None = None) -> str:
    palette = palette or Palette()
    lines = [
        _field("Name", info.name),
        _field("Namespace", info.namespace),
        _field("Status", _status(info.status, palette)),
    ]
    if info.message:
        lines.append(_field("Message", info.message))
    lines.append(_field("Strategy", info.strategy))
    if info.strategy == "Canary":
        if info.step:
            lines.append(_field("Step", info.step, 2))
        lines.append(_field("SetWeight", info.set_weight, 2))
        lines.append(_field("ActualWeight", info.actual_weight, 2))
    lines += _images(info.images)
    lines.append("Replicas:")
    lines += [_field(label, str(value), 2) for label, value in info.replicas]
    lines.append("")
    lines += render_tree(info.tree, palette)
    return "\n".join(lines) + "\n"


def render_experiment(info: ExperimentInfo, palette: Palette | None = None) -> str:
    palette = palette or Palette()
    lines = [
        _field("Name", info.name),
        _field("Namespace", info.namespace),
        _field("Status", _status(info.status, palette)),
    ]
    if info.message:
        lines.append(_field("Message", info.message))
    lines += _images(info.images)
    lines.append("")
    lines += render_tree(info.tree, palette)
    return "\n".join(lines) + "\n"
