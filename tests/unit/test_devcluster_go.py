"""The Go unit tests of the devcluster's pure packages (ports, flags, tokens, kubeconfigs, PKI).

They live next to the Go code; this runs them with the suite so `pytest tests/unit` covers both
halves. Only ./internal/... is tested: it does not link Kubernetes, so it takes seconds.
"""

import os
import subprocess

from rollouts.devcluster import builds


def test_go_internal_packages():
    go = builds.find_go()
    result = subprocess.run(
        [go, "test", "./internal/..."],
        cwd=builds.default_source_dir(),
        capture_output=True,
        text=True,
        env=builds.build_env(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  \tgithub.com/rollouts/rollouts/hack/devcluster/internal/cluster" in result.stdout
