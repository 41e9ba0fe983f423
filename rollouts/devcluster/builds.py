"""Building the Go devcluster binary once per source version and caching it.

The cache key is a hash of everything that decides the binary: the Go sources (tests excluded),
``go.mod``/``go.sum``, the Go version and the linker flags. The pure part (key, flags, command)
is separate from the I/O (walking the tree, running ``go build`` under a file lock so two test
sessions never build into the same place at once).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from rollouts.devcluster.errors import DevClusterError

BINARY_ENV = "ROLLOUTS_DEVCLUSTER_BIN"
SOURCE_ENV = "ROLLOUTS_DEVCLUSTER_SRC"
BINARY_NAME = "devcluster"
KUBERNETES_MODULE = "k8s.io/kubernetes"
# Where the version variables of `kubectl version` / GET /version live; set by Kubernetes' own
# release scripts through -X, and left at v0.0.0-master by a plain `go build`.
VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
LOG_TAIL_LINES = 40
# A cached binary not used for this long is deleted (each is ~100 MB and every edit of the Go
# sources makes a new one). Long enough that no cluster is still starting from it.
STALE_AFTER_SECONDS = 6 * 3600


def is_build_input(relative: str) -> bool:
    """Whether a file under hack/devcluster changes the binary."""
    if relative in ("go.mod", "go.sum"):
        return True
    return relative.endswith(".go") and not relative.endswith("_test.go")


def cache_key(files: Mapping[str, bytes], go_version: str, ldflags: str) -> str:
    """A stable digest of the build inputs; file order does not matter, names do."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    digest.update(b"go\0" + go_version.encode() + b"\0ldflags\0" + ldflags.encode())
    return digest.hexdigest()[:20]


def kubernetes_version(go_mod: str) -> str:
    """The k8s.io/kubernetes version required by go.mod."""
    match = re.search(
        rf"^\s*(?:require\s+)?{re.escape(KUBERNETES_MODULE)}\s+(v\d+\.\d+\.\d+\S*)", go_mod, re.M
    )
    if not match:
        raise DevClusterError(f"go.mod does not require {KUBERNETES_MODULE} at a release version")
    return match.group(1)


def version_ldflags(version: str) -> str:
    """Linker flags that stamp the Kubernetes version into the binary, as release builds do."""
    major, minor = version.lstrip("v").split(".")[:2]
    flags = []
    for package in VERSION_PACKAGES:
        flags += [
            f"-X {package}.gitVersion={version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def build_command(go: str, output: Path, ldflags: str) -> list[str]:
    return [go, "build", "-o", str(output), "-ldflags", ldflags, "."]


def build_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Never let `go` fetch another toolchain: the machine's Go must do (or fail clearly)."""
    env = dict(environ)
    env.setdefault("GOTOOLCHAIN", "local")
    return env


def stale_entries(last_used: Mapping[str, float], keep: str, now: float, max_age: float) -> list[str]:
    """Cache keys to delete: every key but ``keep`` last used more than ``max_age`` seconds ago."""
    return sorted(key for key, used in last_used.items() if key != keep and now - used > max_age)


def tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def default_source_dir() -> Path:
    """hack/devcluster of the checkout this package is imported from (editable installs)."""
    override = os.environ.get(SOURCE_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "hack" / "devcluster"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rollouts" / "devcluster"


def read_build_inputs(source: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source).as_posix()
        if path.is_file() and is_build_input(relative):
            files[relative] = path.read_bytes()
    return files


def go_version(go: str) -> str:
    result = subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=False, env=build_env(os.environ)
    )
    if result.returncode != 0:
        raise DevClusterError(f"`{go} env GOVERSION` failed:\n{tail(result.stderr)}")
    return result.stdout.strip()


def find_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise DevClusterError(
            "Go is not installed (no `go` on PATH). The devcluster is built from Go modules and needs "
            "Go >= 1.26: install it (Debian: apt-get install golang-go, or https://go.dev/dl) or set "
            f"{BINARY_ENV} to a prebuilt devcluster binary."
        )
    return go


def ensure_binary(progress: Callable[[str], None] = lambda _: None, source: Path | None = None) -> Path:
    """The devcluster binary for the current sources, built on first use.

    ``ROLLOUTS_DEVCLUSTER_BIN`` short-circuits everything (a prebuilt binary).
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        binary = Path(override)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise DevClusterError(f"{BINARY_ENV}={override} is not an executable file")
        return binary
    source = source or default_source_dir()
    if not (source / "go.mod").is_file():
        raise DevClusterError(
            f"devcluster sources not found at {source} (expected go.mod there); run from a checkout "
            f"of the repository, or set {SOURCE_ENV} to hack/devcluster or {BINARY_ENV} to a binary"
        )
    go = find_go()
    files = read_build_inputs(source)
    ldflags = version_ldflags(kubernetes_version(files["go.mod"].decode()))
    key = cache_key(files, go_version(go), ldflags)
    root = cache_root()
    binary = root / key / BINARY_NAME
    if binary.is_file():
        os.utime(binary.parent)  # the directory's mtime records the last use
        return binary
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another session is building (maybe this very key)
            progress("waiting for another devcluster build to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():
            _build(go, source, binary, ldflags, progress)
        _prune(root, keep=key)
    return binary


def _prune(root: Path, keep: str) -> None:
    last_used = {entry.name: entry.stat().st_mtime for entry in root.iterdir() if entry.is_dir()}
    for key in stale_entries(last_used, keep, time.time(), STALE_AFTER_SECONDS):
        shutil.rmtree(root / key, ignore_errors=True)


def _build(go: str, source: Path, binary: Path, ldflags: str, progress: Callable[[str], None]) -> None:
    binary.parent.mkdir(parents=True, exist_ok=True)
    log_path = binary.parent / "build.log"
    progress(
        f"building the devcluster from {source} (the first build takes several minutes); log: {log_path}"
    )
    with tempfile.TemporaryDirectory(dir=binary.parent) as scratch:
        output = Path(scratch) / BINARY_NAME
        with log_path.open("w") as log:
            result = subprocess.run(
                build_command(go, output, ldflags),
                cwd=source,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=build_env(os.environ),
                check=False,
            )
        if result.returncode != 0:
            raise DevClusterError(
                f"building the devcluster failed (go build exit code {result.returncode}); "
                f"last lines of {log_path}:\n{tail(log_path.read_text(errors='replace'))}"
            )
        output.replace(binary)
