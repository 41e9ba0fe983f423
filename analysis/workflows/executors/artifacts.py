"""A local-directory artifact repository: what passes artifacts between steps without S3.

Keys follow Argo's default layout, ``<workflow>/<pod>/<artifact>.tgz`` (tar + gzip, the default
``archive``) or ``<workflow>/<pod>/<base name>`` with ``archive: {none: {}}``. Both executors use
it: the local executor directly, the Kubernetes executor through a ``hostPath`` volume, which works
on the devcluster (one host) and on a single-node cluster; a multi-node cluster needs a shared
store we do not provide yet.

Archives are read defensively: members must stay inside the destination (no absolute paths, no
``..``, no links pointing outside), so a crafted archive cannot write elsewhere.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["ArtifactError", "ArtifactRepository", "stage_input_artifact"]


class ArtifactError(ValueError):
    """An artifact that cannot be saved or loaded; the message names it."""


class ArtifactRepository:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ArtifactError(f"artifact key {key!r} must be a relative path inside the repository")
        return self.root / relative

    def save(self, source: Path, key_prefix: str, artifact: dict[str, Any]) -> str:
        """Store the file or directory ``source`` as ``artifact``; returns its key."""
        archive = artifact.get("archive") or {}
        name = artifact["name"]
        base = PurePosixPath(artifact.get("path") or name).name or name
        if "none" in archive:
            key = f"{key_prefix}/{base}"
            target = self._path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            if source.is_dir():
                shutil.copytree(source, target, symlinks=True)
            else:
                shutil.copy2(source, target)
            return key
        if "zip" in archive:
            raise ArtifactError(f"artifact {name}: archive zip is not supported by the local repository")
        level = (archive.get("tar") or {}).get("compressionLevel")
        key = f"{key_prefix}/{name}.tgz"
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = "w:" if level == 0 else "w:gz"
        options: dict[str, Any] = {} if level in (None, 0) else {"compresslevel": int(level)}
        with tarfile.open(target, mode, **options) as tar:  # type: ignore[call-overload]
            tar.add(source, arcname=base)
        return key

    def load(self, key: str, destination: Path) -> None:
        """Place the artifact stored under ``key`` at ``destination`` (a file or a directory)."""
        stored = self._path(key)
        if not stored.exists():
            raise ArtifactError(f"artifact {key!r} is not in the repository {self.root}")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if not key.endswith(".tgz"):
            if stored.is_dir():
                shutil.copytree(stored, destination, symlinks=True)
            else:
                shutil.copy2(stored, destination)
            return
        unpack = destination.parent / f".{destination.name}.unpack"
        shutil.rmtree(unpack, ignore_errors=True)
        unpack.mkdir()
        with tarfile.open(stored, "r:*") as tar:
            tar.extractall(unpack, filter="data")
        entries = list(unpack.iterdir())
        if len(entries) != 1:
            raise ArtifactError(
                f"artifact {key!r} must hold exactly one file or directory, found {len(entries)}"
            )
        entries[0].rename(destination)
        unpack.rmdir()


def stage_input_artifact(
    artifact: dict[str, Any], destination: Path, repository: ArtifactRepository | None
) -> bool:
    """Put one bound input artifact at ``destination``; False when it is optional and absent."""
    name = artifact.get("name", "?")
    if artifact.get("raw") is not None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(str(artifact["raw"].get("data", "")), encoding="utf-8")
        return True
    local = artifact.get("local")
    if local is not None:
        if repository is None:
            raise ArtifactError(f"inputs.artifacts.{name}: no artifact repository is configured")
        repository.load(str(local.get("key", "")), destination)
        return True
    if artifact.get("optional"):
        return False
    locations = sorted(set(artifact) & {"s3", "gcs", "azure", "git", "http", "oss", "hdfs", "artifactory"})
    if locations:
        raise ArtifactError(
            f"inputs.artifacts.{name}: {locations[0]} artifacts are not supported by this executor"
        )
    raise ArtifactError(f"inputs.artifacts.{name} was not supplied")
