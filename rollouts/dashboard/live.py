"""One Kubernetes watch per kind and namespace, shared by every open page.

A page's live stream needs Rollouts and ReplicaSets (the overview) or those plus pods,
AnalysisRuns, Experiments, Jobs and Events of one namespace (a rollout). The first stream that
needs a (kind, namespace) starts a `Watcher` thread — list, then watch from the list's
resourceVersion, relist on 410 Gone or an error, with backoff — that keeps the objects in
memory; later streams reuse it, so ten pages on the same view cost one watch per kind, not ten.
Every change bumps one counter and wakes the streams (`LiveObjects.wait`); the stream renders its
view from memory, never from a fresh list. Watchers live as long as the server: their number is
bounded by the kinds times the namespaces ever viewed. Reads use the dashboard's own
credentials; with ``--auth kubernetes`` each stream is authorized before it starts.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from rollouts.dashboard.rawapi import request
from rollouts.plugin.kube import ApiError, Cluster

__all__ = ["KINDS", "LiveObjects", "Watcher"]

log = logging.getLogger(__name__)

# kind -> (API prefix, plural)
KINDS: dict[str, tuple[str, str]] = {
    "Rollout": ("/apis/argoproj.io/v1alpha1", "rollouts"),
    "AnalysisRun": ("/apis/argoproj.io/v1alpha1", "analysisruns"),
    "Experiment": ("/apis/argoproj.io/v1alpha1", "experiments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
    "Job": ("/apis/batch/v1", "jobs"),
    "Pod": ("/api/v1", "pods"),
    "Event": ("/api/v1", "events"),
}
WATCH_SECONDS = 240  # the API server ends each watch; we resume from the last resourceVersion
SYNC_PATIENCE = 30.0
MAX_BACKOFF = 10.0
REFUSED_RETRY = 30.0


def _path(kind: str, namespace: str) -> str:
    prefix, plural = KINDS[kind]
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"


def _kept(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as held in memory: without ``managedFields``, which no view reads and which
    can be most of an object's size."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))


class _GoneError(Exception):
    """The watch's resourceVersion is too old (410): list again."""


class Watcher(threading.Thread):
    """Keeps every object of one kind in one namespace ("" = all) up to date in memory."""

    def __init__(self, cluster: Cluster, kind: str, namespace: str, changed: LiveObjects) -> None:
        super().__init__(name=f"watch-{kind}-{namespace or 'all'}", daemon=True)
        self.cluster, self.kind, self.namespace = cluster, kind, namespace
        self._hub = changed
        self._objects: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.synced = threading.Event()
        self.error = ""
        self.refused = ""  # the API's 403 message while the dashboard may not list this kind
        self._stop = threading.Event()

    def objects(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._objects.values())

    def stop(self) -> None:
        self._stop.set()

    def _get(self, query: list[tuple[str, str]], timeout: float) -> Any:
        return request(
            self.cluster.api_client, "GET", _path(self.kind, self.namespace), query=query, timeout=timeout
        )

    def _list(self) -> str:
        answer = json.loads(self._get([], 60).data)
        items = {_key(item): _kept(item) for item in answer.get("items") or []}
        with self._lock:
            self._objects = items
        self.refused = ""
        self.synced.set()
        self._hub.bump()
        return str((answer.get("metadata") or {}).get("resourceVersion", ""))

    def _lines(self, version: str) -> Iterator[str]:
        from kubernetes.watch.watch import iter_resp_lines

        query = [
            ("watch", "true"),
            ("resourceVersion", version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        ]
        response = self._get(query, WATCH_SECONDS + 30)
        try:
            lines: Iterator[str] = iter_resp_lines(response)  # type: ignore[no-untyped-call]
            yield from lines
        finally:
            response.release_conn()

    def _watch(self, version: str) -> str:
        for line in self._lines(version):
            if self._stop.is_set():
                break
            event = json.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                if obj.get("code") == 410:
                    raise _GoneError()
                raise RuntimeError(f"watch error: {obj.get('message')}")
            version = str((obj.get("metadata") or {}).get("resourceVersion", version))
            if kind == "BOOKMARK":
                continue
            with self._lock:
                if kind == "DELETED":
                    self._objects.pop(_key(obj), None)
                else:
                    self._objects[_key(obj)] = _kept(obj)
            self._hub.bump()
        return version

    def _failed(self, error: ApiError, backoff: float) -> str:
        """A refused list (403) counts as synced and empty, so a page waits for nobody; asked
        again after `REFUSED_RETRY`. Anything else is retried with ``backoff``."""
        self.error = str(error)
        log.warning("watching %s in %r: %s", self.kind, self.namespace or "*", self.error)
        if error.status == 403:
            with self._lock:
                self._objects = {}
            self.refused = self.error
            self.synced.set()
            self._hub.bump()
            self._stop.wait(REFUSED_RETRY)
        else:
            self._stop.wait(backoff)
        return ""

    def run(self) -> None:
        backoff = 0.5
        version = ""
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._list()
                version = self._watch(version)
                backoff = 0.5
                self.error = ""
            except _GoneError:
                version = ""
            except ApiError as error:
                version = self._failed(error, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except Exception as error:  # the API went away: retry, never die
                self.error = f"{type(error).__name__}: {error}"
                log.warning("watching %s in %r: %s", self.kind, self.namespace or "*", self.error)
                version = ""
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)


class LiveObjects:
    """The shared watchers, and one change counter the streams wait on."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._watchers: dict[tuple[str, str], Watcher] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self.version = 0

    def bump(self) -> None:
        with self._changed:
            self.version += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the counter passes ``seen`` or ``timeout`` elapses; the counter now."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version

    def watcher(self, kind: str, namespace: str) -> Watcher:
        """The running watcher for ``kind`` in ``namespace`` ("" = all), started on first use
        and waited for until its first list is in (or `SYNC_PATIENCE` runs out)."""
        with self._lock:
            found = self._watchers.get((kind, namespace))
            if found is None:
                found = self._watchers[(kind, namespace)] = Watcher(self.cluster, kind, namespace, self)
                found.start()
        deadline = time.monotonic() + SYNC_PATIENCE
        while not found.synced.wait(0.2):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not list {kind} in {namespace or 'all namespaces'}: {found.error}")
        return found

    def objects(self, kind: str, namespace: str, *, optional: bool = False) -> list[dict[str, Any]]:
        """The objects of ``kind`` in ``namespace``, from a cluster-wide watcher if one runs.
        `PermissionError` when the dashboard may not list them, unless ``optional`` (Events,
        Jobs: the page is shown without them, as ``kubectl rollouts get`` does)."""
        with self._lock:
            everywhere = self._watchers.get((kind, "")) if namespace else None
        if everywhere is not None and everywhere.synced.is_set() and not everywhere.refused:
            return [obj for obj in everywhere.objects() if _key(obj)[0] == namespace]
        found = self.watcher(kind, namespace)
        if found.refused and not optional:
            raise PermissionError(found.refused)
        return found.objects()

    def stop(self) -> None:
        with self._lock:
            for watcher in self._watchers.values():
                watcher.stop()
