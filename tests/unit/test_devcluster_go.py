"""The Go unit tests of the devcluster (ports, flags, tokens, kubeconfigs, PKI; the fake kubelet).

They live next to the Go code; this runs them with the suite so `pytest tests/unit` covers both
halves. ./internal/... does not link Kubernetes and takes seconds; ./kubelet/ links client-go
(about 30 s the first time) and starts real processes in mount namespaces, so it needs root.
"""

import os
import subprocess

import pytest

from rollouts.devcluster import builds


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        ("./internal/...", "github.com/rollouts/rollouts/hack/devcluster/internal/cluster"),
        ("./kubelet/", "github.com/rollouts/rollouts/hack/devcluster/kubelet"),
    ],
)
def test_go_packages(packages: str, expected: str) -> None:
    go = builds.find_go()
    result = subprocess.run(
        [go, "test", packages],
        cwd=builds.default_source_dir(),
        capture_output=True,
        text=True,
        env=builds.build_env(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok  \t{expected}" in result.stdout
