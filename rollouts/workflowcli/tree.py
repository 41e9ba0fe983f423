"""The ``argo get`` screen for a workflow run: the header block and the STEP tree table. Pure.

The tree follows Argo's CLI (reference §9.2): Steps and DAG nodes own the nodes of their
boundary, StepGroup/Retry/TaskGroup nodes own their ``children``; StepGroups are drawn as a fan,
a Retry with a single attempt, TaskGroups and Container nodes are hidden (their children take
their place), Omitted nodes are left out, and the workflow exit handler is a second tree. The
prefix rules are Argo's, so the output lines up with what users know. Widths are computed on
plain text and colour is added after padding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from analysis.workflows.names import pod_name
from analysis.workflows.status import NodeStatus, WorkflowStatus
from rollouts.planner.inputs import parse_time
from rollouts.plugin.terminal import Palette

__all__ = [
    "RunView",
    "long_duration",
    "pod_of",
    "render_run",
    "render_table",
    "short_duration",
    "status_word",
]

_LABEL_WIDTH: Final = 20
_HEADERS: Final = ("STEP", "TEMPLATE", "PODNAME", "DURATION", "MESSAGE")
_WIDE_HEADERS: Final = (*_HEADERS, "NODENAME")
_ICONS: Final[dict[str, tuple[str, str]]] = {
    "Pending": ("◷", "yellow"),
    "Running": ("●", "blue"),
    "Succeeded": ("✔", "green"),
    "Skipped": ("○", "plain"),
    "Omitted": ("○", "plain"),
    "Failed": ("✖", "red"),
    "Error": ("⚠", "red"),
}
_SUSPENDED: Final = ("ǁ", "blue")
_HIDDEN_TYPES: Final = frozenset({"StepGroup", "TaskGroup", "Container"})
_BOUNDARY_TYPES: Final = frozenset({"Steps", "DAG"})
_PARENT_TYPES: Final = frozenset({"StepGroup", "Retry", "TaskGroup"})
_LOOP_INDEX: Final = re.compile(r"\((\d+):.*\)$")


@dataclass(frozen=True)
class RunView:
    """What the screen shows about one run, whatever object (WorkflowRun, Argo Workflow) holds it."""

    name: str
    namespace: str
    status: WorkflowStatus
    created: str | None = None
    service_account: str | None = None
    parameters: Sequence[tuple[str, str]] = ()
    shutdown: str | None = None

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> RunView:
        metadata = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        raw = obj.get("status") or {}
        parameters = [
            (str(item.get("name")), str(item.get("value", "")))
            for item in (spec.get("arguments") or {}).get("parameters") or []
            if isinstance(item, dict)
        ]
        return cls(
            name=str(metadata.get("name") or ""),
            namespace=str(metadata.get("namespace") or ""),
            status=WorkflowStatus.model_validate(raw),
            created=metadata.get("creationTimestamp"),
            service_account=spec.get("serviceAccountName"),
            parameters=parameters,
            shutdown=spec.get("shutdown"),
        )


def short_duration(seconds: float) -> str:
    """One truncated unit, as ``argo get``/``argo list`` print it: 0s, 45s, 3m, 2h, 1d."""
    whole = max(0, int(seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if whole >= size:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def long_duration(seconds: float) -> str:
    """``27 seconds``, ``1 minute 5 seconds``, ``2 hours 3 minutes``: the two largest units."""
    whole = max(0, int(seconds))
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "0 seconds"


def _seconds(start: str | None, end: str | None, now: datetime) -> float | None:
    begun = parse_time(start)
    if begun is None:
        return None
    return ((parse_time(end) or now) - begun).total_seconds()


def status_word(view: RunView) -> str:
    """``Status:`` as ``argo get`` prints it (Suspended/Terminated qualifiers included)."""
    phase = view.status.phase or "Pending"
    if phase == "Running" and any(
        node.type == "Suspend" and node.phase == "Running" for node in view.status.nodes.values()
    ):
        return "Running (Suspended)"
    if phase == "Failed" and view.shutdown == "Terminate":
        return "Failed (Terminated)"
    return phase


def _icon(node: NodeStatus) -> tuple[str, str]:
    if node.type == "Suspend" and node.phase == "Running":
        return _SUSPENDED
    return _ICONS.get(node.phase, ("?", "plain"))


def _sort_key(node: NodeStatus) -> tuple[str, int, str]:
    match = _LOOP_INDEX.search(node.display_name)
    return (node.started_at or "", int(match.group(1)) if match else -1, node.display_name)


class _Tree:
    def __init__(self, status: WorkflowStatus) -> None:
        self.nodes = status.nodes
        self.owned: set[str] = {
            child
            for node in self.nodes.values()
            if node.type in _PARENT_TYPES
            for child in node.children or []
        }

    def children(self, node: NodeStatus) -> list[NodeStatus]:
        if node.type in _BOUNDARY_TYPES:
            found = [
                other
                for other in self.nodes.values()
                if other.boundary_id == node.id and other.id not in self.owned
            ]
        elif node.type in _PARENT_TYPES:
            found = [self.nodes[child] for child in node.children or [] if child in self.nodes]
        else:
            found = []
        return sorted((child for child in found if child.phase != "Omitted"), key=_sort_key)

    def hidden(self, node: NodeStatus) -> bool:
        if node.type in _HIDDEN_TYPES:
            return True
        return node.type == "Retry" and len(node.children or []) == 1

    def rows(self, node: NodeStatus, node_prefix: str, child_prefix: str) -> Iterator[tuple[str, NodeStatus]]:
        if not self.hidden(node):
            yield node_prefix, node
        children = self.children(node)
        count = len(children)
        for index, child in enumerate(children):
            last = index == count - 1
            if not self.hidden(node):
                yield from self.rows(
                    child,
                    child_prefix + ("└─" if last else "├─"),
                    child_prefix + ("  " if last else "│ "),
                )
            elif node.type == "StepGroup":
                part = "──" if count == 1 else "┬─" if index == 0 else "└─" if last else "├─"
                yield from self.rows(
                    child,
                    (node_prefix if index == 0 else child_prefix) + part,
                    child_prefix + ("  " if last else "│ "),
                )
            else:
                yield from self.rows(child, node_prefix if index == 0 else child_prefix, child_prefix)


def _template(node: NodeStatus) -> str:
    if node.template_ref is not None:
        return f"{node.template_ref.name}/{node.template_ref.template}"
    return node.template_name or ""


def pod_of(workflow: str, node: NodeStatus) -> str:
    template = node.template_ref.template if node.template_ref else node.template_name
    return pod_name(workflow, node.name, template or "")


def _cells(view: RunView, prefix: str, node: NodeStatus, now: datetime, wide: bool) -> list[str]:
    """The plain-text cells of one row (the STEP cell without its icon's colour)."""
    is_pod = node.type == "Pod"
    seconds = _seconds(node.started_at, node.finished_at, now) if is_pod else None
    row = [
        f"{prefix}{_icon(node)[0]} {node.display_name}",
        _template(node),
        pod_of(view.name, node) if is_pod else "",
        short_duration(seconds) if seconds is not None else "",
        node.message or "",
    ]
    return [*row, node.host_node_name or ""] if wide else row


def render_table(view: RunView, now: datetime, palette: Palette, *, wide: bool = False) -> list[str]:
    """The STEP table (the exit handler as a second tree after an empty line)."""
    tree = _Tree(view.status)
    roots = [
        node
        for node in view.status.nodes.values()
        if node.boundary_id is None and node.id not in tree.owned and node.phase != "Omitted"
    ]
    roots.sort(key=lambda node: (node.name.endswith(".onExit"), _sort_key(node)))
    groups = [
        [(node, _cells(view, prefix, node, now, wide)) for prefix, node in tree.rows(root, " ", " ")]
        for root in roots
    ]
    headers = _WIDE_HEADERS if wide else _HEADERS
    rows = [cells for group in groups for _, cells in group]
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    lines = ["  ".join(f"{h:<{w}}" for h, w in zip(headers, widths, strict=True)).rstrip()]
    for number, group in enumerate(groups):
        if number:
            lines.append("")
        for node, cells in group:
            icon, tone = _icon(node)
            step = cells[0].replace(f"{icon} ", f"{palette.paint(icon, tone)} ", 1)
            padded = [step + " " * (widths[0] - len(cells[0]))]
            padded += [f"{cell:<{width}}" for cell, width in zip(cells[1:], widths[1:], strict=True)]
            lines.append("  ".join(padded).rstrip())
    return lines


def _field(label: str, value: str) -> str:
    return f"{label + ':':<{_LABEL_WIDTH}}{value}".rstrip()


def _stamp(value: str | None, now: datetime) -> str:
    when = parse_time(value)
    if when is None:
        return ""
    ago = long_duration((now - when).total_seconds())
    return f"{when.strftime('%a %b %d %H:%M:%S %z')} ({ago} ago)"


def render_run(view: RunView, now: datetime, palette: Palette | None = None, *, wide: bool = False) -> str:
    """The whole ``argo get`` screen: header block, an empty line, the tree table."""
    palette = palette or Palette()
    status = view.status
    word = status_word(view)
    lines = [
        _field("Name", view.name),
        _field("Namespace", view.namespace),
        _field("ServiceAccount", view.service_account or "unset (will run with the default ServiceAccount)"),
        _field("Status", palette.paint(word, _ICONS.get(status.phase or "Pending", ("", "plain"))[1])),
    ]
    if status.message:
        lines.append(_field("Message", status.message))
    if status.conditions:
        lines.append("Conditions:")
        lines += [f" {item.type:<{_LABEL_WIDTH - 1}}{item.status}" for item in status.conditions]
    lines.append(_field("Created", _stamp(view.created or status.started_at, now)))
    if status.started_at:
        lines.append(_field("Started", _stamp(status.started_at, now)))
    if status.finished_at:
        lines.append(_field("Finished", _stamp(status.finished_at, now)))
    seconds = _seconds(status.started_at, status.finished_at, now)
    if seconds is not None:
        lines.append(_field("Duration", long_duration(seconds)))
    if status.progress:
        lines.append(_field("Progress", status.progress))
    if view.parameters:
        lines.append("Parameters:")
        lines += [f"  {name}: {value}" for name, value in view.parameters]
    outputs = status.outputs.parameters if status.outputs and status.outputs.parameters else []
    if outputs:
        lines.append("Output Parameters:")
        lines += [f"  {parameter.name}: {parameter.value}" for parameter in outputs]
    if status.nodes:
        lines.append("")
        lines += render_table(view, now, palette, wide=wide)
    return "\n".join(lines) + "\n"
