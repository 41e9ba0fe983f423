import os
from pathlib import Path

import pytest

from rollouts.devcluster import DevClusterError, builds

GO_MOD = """module github.com/rollouts/rollouts/hack/devcluster

go 1.26.0

require (
	go.etcd.io/etcd/server/v3 v3.6.8
	k8s.io/kubernetes v1.36.3
)
"""


def test_build_inputs_are_go_sources_and_module_files_not_tests():
    assert builds.is_build_input("main.go")
    assert builds.is_build_input("kubelet/pods.go")
    assert builds.is_build_input("go.mod")
    assert builds.is_build_input("go.sum")
    assert not builds.is_build_input("internal/cluster/cluster_test.go")
    assert not builds.is_build_input("README.md")
    assert not builds.is_build_input("kubelet/go.mod.orig")


def test_cache_key_depends_on_content_names_go_and_flags_but_not_order():
    files = {"a.go": b"package main", "go.mod": b"module x"}
    key = builds.cache_key(files, "go1.26.8", "-X a=b")
    assert key == builds.cache_key(dict(reversed(list(files.items()))), "go1.26.8", "-X a=b")
    assert key != builds.cache_key({**files, "a.go": b"package main // changed"}, "go1.26.8", "-X a=b")
    assert key != builds.cache_key({"b.go": b"package main", "go.mod": b"module x"}, "go1.26.8", "-X a=b")
    assert key != builds.cache_key(files, "go1.26.9", "-X a=b")
    assert key != builds.cache_key(files, "go1.26.8", "-X a=c")


def test_kubernetes_version_from_go_mod():
    assert builds.kubernetes_version(GO_MOD) == "v1.36.3"
    assert builds.kubernetes_version("require k8s.io/kubernetes v1.35.0\n") == "v1.35.0"


def test_go_mod_without_kubernetes_is_an_error():
    with pytest.raises(DevClusterError, match=r"k8s\.io/kubernetes"):
        builds.kubernetes_version("module x\nrequire k8s.io/client-go v0.36.3\n")


def test_version_ldflags_stamp_both_version_packages():
    flags = builds.version_ldflags("v1.36.3")
    assert "-X k8s.io/component-base/version.gitVersion=v1.36.3" in flags
    assert "-X k8s.io/client-go/pkg/version.gitMinor=36" in flags
    assert "-X k8s.io/component-base/version.gitMajor=1" in flags


def test_build_command_and_env():
    command = builds.build_command("/usr/bin/go", Path("/c/out"), "-X a=b")
    assert command == ["/usr/bin/go", "build", "-o", "/c/out", "-ldflags", "-X a=b", "."]
    assert builds.build_env({"PATH": "/bin"})["GOTOOLCHAIN"] == "local"
    assert builds.build_env({"GOTOOLCHAIN": "go1.27.0"})["GOTOOLCHAIN"] == "go1.27.0"


def test_tail_keeps_the_last_lines():
    assert builds.tail("1\n2\n3\n", 2) == "2\n3"


def test_binary_override_must_be_executable(tmp_path, monkeypatch):
    not_executable = tmp_path / "devcluster"
    not_executable.write_text("")
    monkeypatch.setenv(builds.BINARY_ENV, str(not_executable))
    with pytest.raises(DevClusterError, match="not an executable"):
        builds.ensure_binary()
    not_executable.chmod(0o755)
    assert builds.ensure_binary() == not_executable


def test_missing_go_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(builds.BINARY_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `go` anywhere
    with pytest.raises(DevClusterError, match="Go is not installed"):
        builds.ensure_binary(source=builds.default_source_dir())


def test_missing_sources_are_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(builds.BINARY_ENV, raising=False)
    with pytest.raises(DevClusterError, match="sources not found"):
        builds.ensure_binary(source=tmp_path)


def test_failed_build_shows_the_log_tail(tmp_path, monkeypatch):
    """A real `go build` of a broken module: the error quotes the compiler."""
    if os.environ.get(builds.BINARY_ENV):
        monkeypatch.delenv(builds.BINARY_ENV)
    source = tmp_path / "src"
    source.mkdir()
    (source / "go.mod").write_text("module broken\n\ngo 1.22\n\nrequire k8s.io/kubernetes v1.36.3\n")
    (source / "main.go").write_text("package main\n\nfunc main() { undefinedThing() }\n")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DevClusterError, match=r"building the devcluster failed[\s\S]*last lines") as caught:
        builds.ensure_binary(source=source)
    assert "undefined: undefinedThing" in str(caught.value)
    binaries = [p for p in (tmp_path / "cache").rglob("devcluster") if p.is_file()]
    assert not binaries, "a failed build must not leave a binary"


def test_stale_entries_spare_the_current_key_and_recent_ones():
    last_used = {"old": 0.0, "recent": 9_000.0, "current": 0.0}
    assert builds.stale_entries(last_used, keep="current", now=10_000.0, max_age=3_600.0) == ["old"]
    assert builds.stale_entries({}, keep="current", now=10_000.0, max_age=3_600.0) == []
