"""The dashboard's HTTP shell: stdlib ``ThreadingHTTPServer``, the plugin's `Cluster`, no framework.

Each request is routed (`routes`), admitted (`auth`), then answered from a read of the API at
most half a second old (`sharing`: pages polling the same view share one answer; an action
clears them all) — nothing else is kept between requests. Reads and actions use the user's
kubeconfig through the plugin's `Cluster`; actions send the planner's patches with the plugin's
`apply_patches`, exactly as the CLI does. The static page is read once from the package.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rollouts import __version__
from rollouts.dashboard.actions import ActionError, patches_for
from rollouts.dashboard.auth import check_request, session_cookie, token_matches
from rollouts.dashboard.routes import ASSETS, Route, RouteError, parse_action_body, route
from rollouts.dashboard.sharing import SharedReads
from rollouts.dashboard.views import overview, rollout_detail
from rollouts.plugin.get import children_of
from rollouts.plugin.kube import ApiError, Cluster, api_errors
from rollouts.plugin.mutations import apply_patches, owned_replica_sets

__all__ = ["DashboardSettings", "check_address", "make_server", "serve", "url_of"]

MAX_BODY_BYTES = 64 * 1024
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class DashboardSettings:
    address: str = "127.0.0.1"
    """Where to listen; anything but loopback requires the token."""
    port: int = 3100
    """0 picks a free port (the printed URL tells which)."""
    namespace: str = "default"
    """The namespace shown, unless ``all_namespaces``."""
    all_namespaces: bool = False
    token: str | None = None
    """The secret every API call must carry; ``None`` only with ``--insecure-no-auth``."""


def _assets() -> dict[str, bytes]:
    folder = resources.files("rollouts.dashboard") / "static"
    return {path: (folder / file_name).read_bytes() for path, (file_name, _) in ASSETS.items()}


class _Dashboard:
    """What the handler needs, shared by every request thread (all of it read-only)."""

    def __init__(self, settings: DashboardSettings, cluster: Cluster) -> None:
        self.settings = settings
        self.cluster = cluster
        self.assets = _assets()
        self.reads = SharedReads()

    def scoped(self, namespace: str) -> Cluster:
        if not self.settings.all_namespaces and namespace != self.settings.namespace:
            raise RouteError(
                403,
                f"this dashboard shows namespace {self.settings.namespace!r} only "
                "(start it with -A for every namespace)",
            )
        return dataclasses.replace(self.cluster, namespace=namespace)

    def list_rollouts(self, namespace: str) -> dict[str, Any]:
        if namespace:
            cluster = self.scoped(namespace)
            rollouts = cluster.list_objects("Rollout")
        else:
            cluster = self.scoped(self.settings.namespace)
            rollouts = cluster.list_objects("Rollout", all_namespaces=self.settings.all_namespaces)
        namespaces = sorted({str(r.get("metadata", {}).get("namespace", "")) for r in rollouts})
        replica_sets = [rs for ns in namespaces for rs in cluster.replica_sets(ns)]
        return overview(rollouts, replica_sets, datetime.now(UTC))

    def detail(self, namespace: str, name: str) -> dict[str, Any]:
        cluster = self.scoped(namespace)
        rollout = cluster.get("Rollout", name)
        children = children_of(cluster, namespace)
        return rollout_detail(rollout, children, datetime.now(UTC), self.events(cluster, name))

    def events(self, cluster: Cluster, name: str) -> list[dict[str, Any]]:
        """The Rollout's Events; a user who may not list Events still gets the rest of the page."""
        from kubernetes import client

        try:
            with api_errors():
                response: Any = client.CoreV1Api(cluster.api_client).list_namespaced_event(
                    cluster.namespace,
                    field_selector=f"involvedObject.kind=Rollout,involvedObject.name={name}",
                    _preload_content=False,
                )
        except ApiError as error:
            if error.status == 403:
                return []
            raise
        items: list[dict[str, Any]] = json.loads(response.data).get("items") or []
        return items

    def act(self, found: Route, raw_body: bytes) -> dict[str, Any]:
        body = parse_action_body(raw_body)
        cluster = self.scoped(found.namespace)
        rollout = cluster.get("Rollout", found.name)
        history = owned_replica_sets(rollout, cluster.replica_sets()) if found.action == "undo" else []
        try:
            patches = patches_for(
                found.action,
                rollout,
                body,
                replica_sets=history,
                revision=found.revision,
                now=datetime.now(UTC),
            )
        except ActionError as error:
            raise RouteError(error.status, error.message) from None
        apply_patches(cluster, "Rollout", found.name, patches)
        self.reads.clear()
        return {"message": patches.message or f"rollout '{found.name}' {_outcome_word(found.action)}"}


def _outcome_word(action: str) -> str:
    words = {"promote": "promoted", "abort": "aborted", "retry": "retried", "pause": "paused"}
    return words.get(action, f"{action}d" if action.endswith("e") else f"{action}ed")


def _handler(dashboard: _Dashboard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "rollouts-dashboard"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
            """Quiet: a polling page would fill the terminal."""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")  # no clickjacking of the action buttons
            self.send_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _read_body(self) -> bytes:
            length_text = self.headers.get("Content-Length", "0")
            if not length_text.isdigit():
                raise RouteError(400, f"invalid Content-Length {length_text!r}")
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                raise RouteError(413, f"body too large ({length} bytes; at most {MAX_BODY_BYTES})")
            return self.rfile.read(length)

        def _dispatch(self, method: str) -> None:
            try:
                found = route(method, self.path)
                if found.kind == "asset":
                    self._asset(found.asset)
                    return
                headers = {key.lower(): value for key, value in self.headers.items()}
                verdict = check_request(dashboard.settings.token, method, headers)
                if not verdict.allowed:
                    raise RouteError(verdict.status, verdict.message)
                if found.kind in ("list", "detail"):
                    key = f"{found.kind}/{found.namespace}/{found.name}"
                    body = dashboard.reads.get(key, lambda: json.dumps(self._answer(found)).encode())
                    self._send(200, body, "application/json")
                    return
                self._json(200, self._answer(found))
            except RouteError as error:
                self.close_connection = True  # a refused request's body may still be unread
                self._json(error.status, {"error": error.message})
            except ApiError as error:
                status = error.status if error.status in (403, 404, 409, 422) else 502
                self._json(status, {"error": error.message})
            except Exception as error:  # one bad request must not take the page down with a reset
                self.close_connection = True
                self._json(500, {"error": f"internal error: {type(error).__name__}: {error}"})

        def _answer(self, found: Route) -> Any:
            if found.kind == "version":
                settings = dashboard.settings
                return {
                    "version": __version__,
                    "namespace": settings.namespace,
                    "allNamespaces": settings.all_namespaces,
                }
            if found.kind == "list":
                return dashboard.list_rollouts(found.namespace)
            if found.kind == "detail":
                return dashboard.detail(found.namespace, found.name)
            return dashboard.act(found, self._read_body())

        def _asset(self, path: str) -> None:
            token = dashboard.settings.token
            offered = parse_qs(urlsplit(self.path).query).get("token", [None])[0]
            if path == "/" and token is not None and token_matches(token, offered):
                # trade the token in the URL for a cookie, and take it out of the address bar
                self._send(303, b"", "text/plain", {"Location": "/", "Set-Cookie": session_cookie(token)})
                return
            self._send(200, dashboard.assets[path], ASSETS[path][1])

    return Handler


def check_address(settings: DashboardSettings) -> None:
    """Refuse to serve the user's cluster access unauthenticated beyond this machine."""
    if settings.token is None and settings.address not in LOOPBACK:
        raise ValueError(
            f"refusing to listen on {settings.address} without auth: "
            "--insecure-no-auth is only allowed on a loopback address"
        )


def make_server(settings: DashboardSettings, cluster: Cluster) -> ThreadingHTTPServer:
    check_address(settings)
    server = ThreadingHTTPServer((settings.address, settings.port), _handler(_Dashboard(settings, cluster)))
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer, settings: DashboardSettings) -> str:
    address, port = server.server_address[:2]
    host = address.decode() if isinstance(address, bytes) else str(address)
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={settings.token}" if settings.token else ""
    return f"http://{shown}:{port}/{query}"


def serve(settings: DashboardSettings, cluster: Cluster, *, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; ``announce`` gets the URL to open (with the token in it)."""
    server = make_server(settings, cluster)
    announce(url_of(server, settings))
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
