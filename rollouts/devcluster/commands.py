"""The supervisor's command line, built from the driver's options (pure, so it is unit-tested)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rollouts.devcluster.errors import DevClusterError

DEFAULT_NODES = 3
DEFAULT_NODE_NAME_PREFIX = "devcluster-node-"
# Images matching this fail to pull (ErrImagePull), so tests can provoke the failure with an
# obviously fake name while every ordinary image "pulls".
DEFAULT_DENY_IMAGES = r"(^|/)(does-not-exist|denied)([:@/]|$)"


@dataclass(frozen=True)
class UpOptions:
    nodes: int = DEFAULT_NODES
    apiserver_port: int = 0
    deny_images: str = DEFAULT_DENY_IMAGES
    node_name_prefix: str = DEFAULT_NODE_NAME_PREFIX
    # The cluster stops by itself once this process is gone (0: never); test sessions pass
    # their own pid so a killed run leaves nothing behind.
    owner_pid: int = 0

    def validate(self) -> None:
        if self.nodes < 1:
            raise DevClusterError(f"--nodes must be at least 1, got {self.nodes}")
        if not 0 <= self.apiserver_port <= 65535:
            raise DevClusterError(
                f"--apiserver-port must be 0 (any free port) or 1-65535, got {self.apiserver_port}"
            )
        if not self.node_name_prefix:
            raise DevClusterError("the node name prefix must not be empty")


def up_command(binary: Path, directory: Path, options: UpOptions) -> list[str]:
    """``devcluster up`` for an absolute cluster directory."""
    if not directory.is_absolute():
        raise DevClusterError(f"cluster directory must be absolute, got {directory}")
    return [
        str(binary),
        "up",
        "--dir",
        str(directory),
        f"--nodes={options.nodes}",
        f"--apiserver-port={options.apiserver_port}",
        f"--node-name-prefix={options.node_name_prefix}",
        f"--deny-images={options.deny_images}",
        f"--owner-pid={options.owner_pid}",
    ]
