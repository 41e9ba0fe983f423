"""Reading ``DIR/state.json``, the supervisor's record of pids, ports and phase.

Parsing is pure and strict: a state file the driver does not understand becomes a
``DevClusterError`` naming the field, never a ``KeyError`` deep inside ``down``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rollouts.devcluster.errors import DevClusterError

# Phases the supervisor writes (internal/cluster/state.go).
STARTING = "starting"
READY = "ready"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"
PHASES = frozenset({STARTING, READY, STOPPING, STOPPED, FAILED})


@dataclass(frozen=True)
class Child:
    part: str
    pid: int
    log: str


@dataclass(frozen=True)
class ClusterState:
    supervisor_pid: int
    started_at: str
    phase: str
    server: str
    nodes: int
    ports: dict[str, int]
    children: tuple[Child, ...]
    versions: dict[str, str]
    error: str = ""
    failed_part: str = ""

    @property
    def pids(self) -> tuple[int, ...]:
        """The supervisor first, then every part."""
        return (self.supervisor_pid, *(child.pid for child in self.children))


def _field(doc: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    value = doc.get(name, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise DevClusterError(f"state file: field {name!r} should be {kind.__name__}, got {value!r}")
    return value


def parse_state(text: str) -> ClusterState:
    """Parse the JSON the supervisor wrote; raise ``DevClusterError`` on anything unexpected."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise DevClusterError(f"state file is not valid JSON: {error}") from error
    if not isinstance(doc, dict):
        raise DevClusterError("state file: expected a JSON object")
    phase = _field(doc, "phase", str)
    if phase not in PHASES:
        raise DevClusterError(f"state file: unknown phase {phase!r}")
    children = []
    for raw in _field(doc, "children", list, []):
        if not isinstance(raw, dict):
            raise DevClusterError(f"state file: child entry should be an object, got {raw!r}")
        children.append(Child(_field(raw, "part", str), _field(raw, "pid", int), _field(raw, "log", str, "")))
    ports = _field(doc, "ports", dict, {})
    versions = _field(doc, "versions", dict, {})
    if not all(isinstance(v, int) for v in ports.values()):
        raise DevClusterError(f"state file: ports should be integers, got {ports!r}")
    return ClusterState(
        supervisor_pid=_field(doc, "supervisorPid", int),
        started_at=_field(doc, "startedAt", str, ""),
        phase=phase,
        server=_field(doc, "server", str, ""),
        nodes=_field(doc, "nodes", int, 0),
        ports=dict(ports),
        children=tuple(children),
        versions={str(k): str(v) for k, v in versions.items()},
        error=_field(doc, "error", str, ""),
        failed_part=_field(doc, "failedPart", str, ""),
    )
