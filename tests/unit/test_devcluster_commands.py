from pathlib import Path

import pytest

from rollouts.devcluster import DevClusterError
from rollouts.devcluster.commands import DEFAULT_DENY_IMAGES, UpOptions, up_command


def test_up_command_passes_every_option():
    command = up_command(Path("/bin/devcluster"), Path("/work/c"), UpOptions(nodes=2, apiserver_port=6443))
    assert command[:4] == ["/bin/devcluster", "up", "--dir", "/work/c"]
    assert "--nodes=2" in command
    assert "--apiserver-port=6443" in command
    assert f"--deny-images={DEFAULT_DENY_IMAGES}" in command
    assert "--owner-pid=0" in command
    assert "--owner-pid=42" in up_command(Path("/bin/devcluster"), Path("/c"), UpOptions(owner_pid=42))


def test_relative_directory_is_refused():
    with pytest.raises(DevClusterError, match="absolute"):
        up_command(Path("devcluster"), Path("rel"), UpOptions())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (UpOptions(nodes=0), "--nodes"),
        (UpOptions(apiserver_port=-1), "--apiserver-port"),
        (UpOptions(apiserver_port=70000), "--apiserver-port"),
        (UpOptions(node_name_prefix=""), "prefix"),
    ],
)
def test_invalid_options(options, message):
    with pytest.raises(DevClusterError, match=message):
        options.validate()


@pytest.mark.parametrize(
    ("image", "denied"),
    [
        ("does-not-exist", True),
        ("example.com/team/does-not-exist:1.0", True),
        ("denied@sha256:abc", True),
        ("nginx:1.27", False),
        ("registry/app-does-not-exist-really:1", False),
    ],
)
def test_default_deny_pattern(image, denied):
    import re

    # Go's RE2 and Python's re agree on this pattern (no backtracking-only syntax).
    assert bool(re.search(DEFAULT_DENY_IMAGES, image)) is denied
