"""Where the devcluster keeps its files: the Python mirror of ``hack/devcluster/internal/cluster``.

The Go supervisor owns the directory; the driver only reads from it (and writes the supervisor's
own log). Every path the driver touches is named here so the two sides cannot drift silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Part names, in start order: the Go supervisor's subcommands and log file names.
PARTS: tuple[str, ...] = ("etcd", "apiserver", "controller-manager", "scheduler", "kubelet")
KUBELET = "kubelet"
SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Layout:
    """The files of one cluster directory."""

    dir: Path

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    @property
    def ready_file(self) -> Path:
        return self.dir / "ready"

    @property
    def logs_dir(self) -> Path:
        return self.dir / "logs"

    @property
    def ca_cert(self) -> Path:
        return self.dir / "pki" / "ca.crt"

    def log_file(self, part: str) -> Path:
        """The log of a part, or of the supervisor itself (``SUPERVISOR``)."""
        return self.logs_dir / f"{part}.log"
