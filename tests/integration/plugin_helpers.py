"""Helpers shared by the plugin's integration tests: run the plugin against the devcluster and
read or shape the objects it acts on through the API (never through the plugin itself)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from test_controller_harness import rollout_manifest as harness_manifest

from rollouts.plugin import main

GROUP, VERSION = "argoproj.io", "v1alpha1"
PATIENCE = 90.0


class Plugin:
    """``kubectl-rollouts`` run in-process with the devcluster's kubeconfig and the test namespace."""

    def __init__(self, capsys: pytest.CaptureFixture[str], kubeconfig: str, namespace: str) -> None:
        self.capsys, self.kubeconfig, self.namespace = capsys, kubeconfig, namespace

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*argv, "--kubeconfig", self.kubeconfig, "-n", self.namespace])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


def objects(api_client: Any) -> Any:
    return client.CustomObjectsApi(api_client)


DEFAULT_STRATEGY = {"canary": {"steps": [{"setWeight": 50}, {"pause": {}}, {"setWeight": 80}]}}


def rollout_manifest(
    name: str, replicas: int = 2, image: str = "nginx:1.27", **strategy: Any
) -> dict[str, Any]:
    """The harness's Rollout manifest, with a short canary unless a strategy is given."""
    return harness_manifest(name, strategy or copy.deepcopy(DEFAULT_STRATEGY), replicas=replicas, image=image)


def create_rollout(api_client: Any, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = objects(api_client).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "rollouts", body
    )
    return created


def read(api_client: Any, namespace: str, plural: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = objects(api_client).get_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name
    )
    return found


def set_rollout_status(api_client: Any, namespace: str, name: str, **status: Any) -> dict[str, Any]:
    """Write status as a controller would (status subresource), observing the current generation."""
    current = read(api_client, namespace, "rollouts", name)
    body = {"status": {"observedGeneration": str(current["metadata"]["generation"]), **status}}
    patched: dict[str, Any] = objects(api_client).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "rollouts", name, body
    )
    return patched


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def until(
    what: str, read_: Callable[[], Any], holds: Callable[[Any], bool], timeout: float = PATIENCE
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read_()
        if holds(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}; last seen: {value!r}")
        time.sleep(0.3)


class Terminal:
    """The plugin as its own process on a pseudo-terminal (stdlib ``pty``), read as a user sees it.

    ``expect`` waits for text printed after what the previous ``expect`` matched; ``output`` is the
    whole transcript with its escape codes.
    """

    def __init__(self, argv: list[str], env: dict[str, str], rows: int = 60, columns: int = 200) -> None:
        import fcntl
        import os
        import pty
        import struct
        import subprocess
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.output = ""
        self.position = 0
        self.closed = False

    def _read(self, timeout: float) -> None:
        import os
        import select

        if self.closed:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the process closed the terminal
            data = b""
        if not data:
            self.closed = True
            return
        self.output += data.decode("utf-8", errors="replace")

    def expect(self, text: str, timeout: float = PATIENCE) -> None:
        deadline = time.monotonic() + timeout
        while True:
            found = self.output.find(text, self.position)
            if found >= 0:
                self.position = found + len(text)
                return
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(
                    f"{text!r} never appeared; output after the last match: {self.output[self.position :]!r}"
                )
            self._read(0.2)

    def wait(self, timeout: float = PATIENCE) -> int:
        """Read to the end and return the exit code."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._read(0.2)
        code: int = self.process.wait(timeout=max(deadline - time.monotonic(), 1))
        return code

    def interrupt(self) -> None:
        import signal

        self.process.send_signal(signal.SIGINT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        import os

        if self.alive():
            self.process.kill()
            self.process.wait()
        os.close(self.master)
