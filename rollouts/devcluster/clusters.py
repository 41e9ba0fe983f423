"""``DevCluster``: start, wait for, inspect and stop one devcluster directory.

This is the imperative shell around the Go supervisor: it builds the binary (``builds``), starts
the supervisor detached in a session of its own so the cluster outlives the command that started
it, and judges readiness from the outside (the ready file, then every node Ready through the real
API). Every failure becomes a ``DevClusterError`` that quotes the log of the part that failed.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rollouts.devcluster import addons, builds, processes
from rollouts.devcluster.commands import UpOptions, up_command
from rollouts.devcluster.errors import DevClusterError
from rollouts.devcluster.kubeconfigs import Credentials, parse_kubeconfig
from rollouts.devcluster.layouts import KUBELET, SUPERVISOR, Layout
from rollouts.devcluster.states import READY, ClusterState, parse_state

DEFAULT_DIR = Path(".devcluster")
START_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0
POLL_INTERVAL = 0.25


@dataclass(frozen=True)
class NodeStatus:
    name: str
    ready: bool


@dataclass(frozen=True)
class Status:
    """What ``status`` reports. ``running`` means the supervisor process is alive."""

    directory: Path
    running: bool
    state: ClusterState | None
    nodes: tuple[NodeStatus, ...] = ()
    api_error: str = ""
    pids_alive: tuple[int, ...] = ()


def ready_nodes(nodes: Any) -> list[NodeStatus]:
    """NodeStatus for each kubernetes V1Node."""
    result = []
    for node in nodes:
        conditions = (node.status and node.status.conditions) or []
        ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
        result.append(NodeStatus(node.metadata.name, ready))
    return result


class DevCluster:
    """One cluster directory. Safe to construct for a directory that holds no cluster yet."""

    def __init__(self, directory: Path | str = DEFAULT_DIR, progress: Callable[[str], None] | None = None):
        self.layout = Layout(Path(directory).resolve())
        self._progress = progress or (lambda _: None)
        self._supervisor: subprocess.Popen[bytes] | None = None

    @property
    def directory(self) -> Path:
        return self.layout.dir

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    # --- reading ---------------------------------------------------------------------------

    def state(self) -> ClusterState | None:
        """The supervisor's state file, or None if this directory never held a cluster."""
        try:
            text = self.layout.state_file.read_text()
        except FileNotFoundError:
            return None
        return parse_state(text)

    def credentials(self) -> Credentials:
        try:
            return parse_kubeconfig(self.kubeconfig.read_text())
        except FileNotFoundError as error:
            raise DevClusterError(f"no kubeconfig at {self.kubeconfig}: is the devcluster up?") from error

    def api_client(self, token: str | None = None) -> Any:
        """A ``kubernetes.client.ApiClient`` for the admin user, or for ``token`` if given."""
        from kubernetes import client

        credentials = self.credentials()
        configuration = client.Configuration()
        configuration.host = credentials.server
        configuration.ssl_ca_cert = str(self.layout.ca_cert)
        configuration.api_key = {"authorization": token or credentials.token}
        configuration.api_key_prefix = {"authorization": "Bearer"}
        return client.ApiClient(configuration)

    def is_running(self) -> bool:
        state = self.state()
        return state is not None and processes.is_ours(state.supervisor_pid, self.directory)

    def status(self) -> Status:
        state = self.state()
        if state is None:
            return Status(self.directory, running=False, state=None)
        running = processes.is_ours(state.supervisor_pid, self.directory)
        alive = tuple(processes.alive(state.pids, self.directory))
        if not running or state.phase != READY:
            return Status(self.directory, running, state, pids_alive=alive)
        try:
            nodes = tuple(self._nodes())
        except Exception as error:  # any API failure is reported, not raised: this is `status`
            return Status(self.directory, running, state, api_error=str(error), pids_alive=alive)
        return Status(self.directory, running, state, nodes=nodes, pids_alive=alive)

    def _nodes(self) -> list[NodeStatus]:
        from kubernetes import client

        with self.api_client() as api_client:
            items = client.CoreV1Api(api_client).list_node(_request_timeout=5).items
        return ready_nodes(items)

    # --- starting --------------------------------------------------------------------------

    def up(
        self,
        nodes: int = UpOptions.nodes,
        *,
        with_: Sequence[str] = (),
        apiserver_port: int = 0,
        deny_images: str = UpOptions.deny_images,
        timeout: float = START_TIMEOUT,
        owner_pid: int = 0,
    ) -> None:
        """Start the cluster and return once the API answers and ``nodes`` nodes are Ready.

        With ``owner_pid`` the cluster stops by itself once that process is gone.
        """
        options = UpOptions(
            nodes=nodes, apiserver_port=apiserver_port, deny_images=deny_images, owner_pid=owner_pid
        )
        options.validate()
        unknown = [name for name in with_ if name not in addons.PINS]
        if unknown:
            raise DevClusterError(
                f"unknown add-on(s) {', '.join(unknown)}; choose from {', '.join(sorted(addons.PINS))}"
            )
        if self.is_running():
            state = self.state()
            pid = state.supervisor_pid if state else "?"
            raise DevClusterError(
                f"a devcluster is already running in {self.directory} (supervisor pid {pid}); "
                "use it, or run `rollouts dev-cluster down` first"
            )
        binary = builds.ensure_binary(self._progress)
        self.layout.logs_dir.mkdir(parents=True, exist_ok=True)
        self.layout.state_file.unlink(missing_ok=True)
        command = up_command(binary, self.directory, options)
        self._progress(f"starting the devcluster in {self.directory}")
        with self.layout.log_file(SUPERVISOR).open("wb") as log:  # a fresh cluster, a fresh log
            self._supervisor = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,  # outlives this process; Ctrl-C here does not reach it
            )
        try:
            self._wait_until_up(nodes, time.monotonic() + timeout, timeout)
            if with_:
                self._progress(f"installing CRDs: {', '.join(with_)}")
                with self.api_client() as api_client:
                    addons.install(api_client, list(with_))
        except BaseException:
            self._stop_quietly()
            raise

    def _wait_until_up(self, nodes: int, deadline: float, timeout: float) -> None:
        assert self._supervisor is not None
        seen: list[NodeStatus] = []
        while True:
            if self._supervisor.poll() is not None:
                code = self._supervisor.returncode
                raise DevClusterError(self._failure_report(f"the devcluster supervisor exited (code {code})"))
            if self.layout.ready_file.exists():
                seen = self._nodes_or_empty()
                if sum(node.ready for node in seen) >= nodes:
                    return
            if time.monotonic() > deadline:
                if self.layout.ready_file.exists():
                    ready = sum(node.ready for node in seen)
                    names = ", ".join(n.name for n in seen) or "none registered"
                    headline = (
                        f"the control plane is up but only {ready}/{nodes} nodes are Ready"
                        f" after {timeout:.0f}s (nodes: {names})"
                    )
                    raise DevClusterError(self._failure_report(headline, part=KUBELET))
                headline = f"the devcluster did not come up within {timeout:.0f}s"
                raise DevClusterError(self._failure_report(headline, still_starting=True))
            time.sleep(POLL_INTERVAL)

    def _nodes_or_empty(self) -> list[NodeStatus]:
        try:
            return self._nodes()
        except Exception:  # the API may still be settling; the deadline decides
            return []

    def _failure_report(self, headline: str, still_starting: bool = False, part: str = SUPERVISOR) -> str:
        """The headline plus the error from the state file and the tail of the log that explains it."""
        lines = [headline]
        try:
            state = self.state()
        except DevClusterError:
            state = None
        if state is not None:
            if state.error:
                lines.append(f"error: {state.error}")
            if state.failed_part:
                part = state.failed_part
            elif still_starting and state.children:
                part = state.children[-1].part  # the newest part is the one not yet healthy
        log = self.layout.log_file(part)
        if log.exists():
            lines.append(f"last lines of {log}:")
            lines.append(builds.tail(log.read_text(errors="replace")))
        if part != SUPERVISOR:
            supervisor_log = self.layout.log_file(SUPERVISOR)
            if supervisor_log.exists():
                lines.append(f"last lines of {supervisor_log}:")
                lines.append(builds.tail(supervisor_log.read_text(errors="replace"), 10))
        return "\n".join(lines)

    # --- stopping --------------------------------------------------------------------------

    def down(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the cluster and wait until none of its processes is left.

        Returns False if nothing was running. Raises if processes survive even SIGKILL.
        """
        state = self.state()
        if state is None:
            if self._supervisor is not None:  # died or was stopped before writing any state
                self._supervisor.terminate()
                self._reap()
            return False
        was_running = bool(processes.alive(state.pids, self.directory))
        processes.signal_all([state.supervisor_pid], self.directory, signal.SIGTERM)
        self._reap()
        left = processes.wait_gone(state.pids, self.directory, timeout)
        if left:
            # The supervisor could not stop them in time (or is itself gone): finish the job.
            processes.signal_all(left, self.directory, signal.SIGKILL)
            self._reap()
            left = processes.wait_gone(left, self.directory, 10.0)
        if left:
            raise DevClusterError(f"devcluster processes still running after SIGKILL: {left}")
        self.layout.ready_file.unlink(missing_ok=True)
        return was_running

    def _reap(self) -> None:
        """Collect our own supervisor child, if we started it, so it does not linger as a zombie."""
        if self._supervisor is not None:
            try:
                self._supervisor.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                return
            self._supervisor = None

    def _stop_quietly(self) -> None:
        with contextlib.suppress(DevClusterError):
            self.down()
