"""Argo Rollouts' own controller, built from its Go module, as the oracle our tests compare with.

The release is pinned (``ARGO_ROLLOUTS_MODULE`` at ``ARGO_ROLLOUTS_VERSION``). ``go mod download``
fetches the module from the Go module proxy; it is built inside a writable copy of the module's
directory so that its own ``go.mod`` and ``replace`` directives apply, with the machine's Go
(``GOTOOLCHAIN=local``). The binary is cached like the devcluster's, by a hash of what decides it:
the module's checksum, the package built, the Go version and the flags.

Only tests and ``bench/`` use it; it is never part of what we ship.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from rollouts.devcluster.builds import build_env, cache_key, find_go, go_version, tail
from rollouts.devcluster.errors import DevClusterError

ARGO_ROLLOUTS_MODULE = "github.com/argoproj/argo-rollouts"
# v1.10.2 needs Go >= 1.26.10; v1.10.1 is the same release line and builds with our Go.
ARGO_ROLLOUTS_VERSION = "v1.10.1"
CONTROLLER_PACKAGE = "./cmd/rollouts-controller"
BINARY_NAME = "rollouts-controller"
BINARY_ENV = "ROLLOUTS_ARGO_CONTROLLER_BIN"
BUILD_FLAGS = ("-trimpath",)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rollouts" / "argo-controller"


def oracle_key(module_sum: str, go: str) -> str:
    """The cache key: the module's content checksum, what is built and how."""
    inputs = {
        "module": f"{ARGO_ROLLOUTS_MODULE}@{ARGO_ROLLOUTS_VERSION} {module_sum}".encode(),
        "package": CONTROLLER_PACKAGE.encode(),
    }
    return cache_key(inputs, go, " ".join(BUILD_FLAGS))


def build_command(go: str, output: Path) -> list[str]:
    return [go, "build", *BUILD_FLAGS, "-o", str(output), CONTROLLER_PACKAGE]


def _download(go: str, scratch: Path) -> dict[str, str]:
    """``go mod download -json`` of the pinned module: its directory and checksum."""
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{ARGO_ROLLOUTS_MODULE}@{ARGO_ROLLOUTS_VERSION}"],
        cwd=scratch,  # outside any module, so no go.mod of ours takes part
        capture_output=True,
        text=True,
        env=build_env(os.environ),
        check=False,
    )
    try:
        info: dict[str, str] = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        info = {}
    if result.returncode != 0 or info.get("Error") or not info.get("Dir"):
        detail = info.get("Error") or tail(result.stderr) or "no module directory reported"
        raise DevClusterError(
            f"downloading {ARGO_ROLLOUTS_MODULE}@{ARGO_ROLLOUTS_VERSION} from the Go module proxy "
            f"failed: {detail}"
        )
    return info


def ensure_argo_controller(progress: Callable[[str], None] = lambda _: None) -> Path:
    """The path of Argo Rollouts' controller binary, built on first use and cached.

    ``ROLLOUTS_ARGO_CONTROLLER_BIN`` names a prebuilt binary instead.
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        binary = Path(override)
        if not (binary.is_file() and os.access(binary, os.X_OK)):
            raise DevClusterError(f"{BINARY_ENV}={override} is not an executable file")
        return binary
    go = find_go()
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        info = _download(go, Path(scratch))
    key = oracle_key(info.get("Sum", ""), go_version(go))
    binary = root / key / BINARY_NAME
    if binary.is_file():
        os.utime(binary.parent)
        return binary
    with (root / ".lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress("waiting for another build of Argo Rollouts' controller to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.is_file():
            _build(go, Path(info["Dir"]), binary, progress)
    return binary


def _build(go: str, module_dir: Path, binary: Path, progress: Callable[[str], None]) -> None:
    binary.parent.mkdir(parents=True, exist_ok=True)
    log_path = binary.parent / "build.log"
    progress(
        f"building Argo Rollouts {ARGO_ROLLOUTS_VERSION}'s controller (the first build takes a few "
        f"minutes); log: {log_path}"
    )
    with tempfile.TemporaryDirectory(dir=binary.parent) as scratch:
        source = Path(scratch) / "src"
        # The module cache is read-only; the build needs its go.mod/go.sum in a module root.
        shutil.copytree(module_dir, source)
        for path in [source, *source.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        output = Path(scratch) / BINARY_NAME
        with log_path.open("w") as log:
            result = subprocess.run(
                build_command(go, output),
                cwd=source,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=build_env(os.environ),
                check=False,
            )
        if result.returncode != 0:
            raise DevClusterError(
                f"building Argo Rollouts' controller failed (go build exit code {result.returncode}); "
                f"last lines of {log_path}:\n{tail(log_path.read_text(errors='replace'))}"
            )
        output.replace(binary)


def main() -> int:
    """``python -m rollouts.devcluster.oracle``: build (or find) the binary and print its path."""
    try:
        print(ensure_argo_controller(lambda message: print(message, flush=True)))
    except DevClusterError as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
