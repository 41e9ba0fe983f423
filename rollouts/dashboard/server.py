"""The dashboard's HTTP shell: stdlib ``ThreadingHTTPServer``, the plugin's `Cluster`, no framework.

Each request is routed (`routes`), admitted (`auth`: the credential, cross-site rules; with
``--auth kubernetes`` also TokenReview and SubjectAccessReview through `kubeauth`), then
answered. One-shot reads list the API (an answer at most half a second old is shared,
`sharing`); live pages hold a server-sent-events stream (`sse`) whose views are rendered from
the shared watches of `live`, once per change for all the pages showing the same view. Actions
send the planner's patches with the plugin's `apply_patches`, exactly as the CLI does — with the
kubeconfig on loopback, with the user's own token under ``--auth kubernetes``. The static page
is read once from the package. One thread per request; a stream holds its thread while open.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rollouts import __version__
from rollouts.dashboard import sse
from rollouts.dashboard.access import UserInfo, action_read_checks, action_write_checks, read_checks
from rollouts.dashboard.actions import ActionError, patches_for
from rollouts.dashboard.auth import (
    AUTH_KUBERNETES,
    AUTH_NONE,
    AUTH_TOKEN,
    Credential,
    bind_refusal,
    check_csrf,
    check_token,
    check_write,
    cleared_cookie,
    csrf_token,
    new_token,
    offered_credentials,
    session_cookie,
    token_matches,
)
from rollouts.dashboard.kubeauth import AccessError, KubernetesAccess
from rollouts.dashboard.live import LiveObjects
from rollouts.dashboard.routes import ASSETS, Route, RouteError, parse_action_body, parse_login_body, route
from rollouts.dashboard.sharing import SharedReads
from rollouts.dashboard.views import live_overview, overview, rollout_detail
from rollouts.planner.inputs import as_mapping, as_str
from rollouts.plugin.get import children_of
from rollouts.plugin.info import Children
from rollouts.plugin.kube import ApiError, Cluster, api_errors
from rollouts.plugin.mutations import apply_patches, owned_replica_sets

__all__ = ["DashboardSettings", "check_address", "make_server", "serve", "url_of"]

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class DashboardSettings:
    address: str = "127.0.0.1"
    """Where to listen; anything but loopback requires ``auth="kubernetes"``."""
    port: int = 3100
    """0 picks a free port (the printed URL tells which)."""
    namespace: str = "default"
    """The namespace shown, unless ``all_namespaces``."""
    all_namespaces: bool = False
    token: str | None = None
    """``auth="token"``: the secret every API call must carry (printed in the URL)."""
    auth: str = AUTH_TOKEN
    """``token``, ``kubernetes`` or ``none`` (see `auth`)."""


@dataclass(frozen=True)
class Caller:
    """Who sent a request: the credential that passed and, with ``--auth kubernetes``, the user."""

    credential: Credential | None = None
    user: UserInfo | None = None


def _assets() -> dict[str, bytes]:
    folder = resources.files("rollouts.dashboard") / "static"
    return {path: (folder / file_name).read_bytes() for path, (file_name, _) in ASSETS.items()}


def _involves(event: dict[str, Any], name: str) -> bool:
    involved = as_mapping(event.get("involvedObject"))
    return as_str(involved.get("kind")) == "Rollout" and as_str(involved.get("name")) == name


class _Dashboard:
    """What the handler needs, shared by every request thread."""

    def __init__(self, settings: DashboardSettings, cluster: Cluster) -> None:
        self.settings = settings
        self.cluster = cluster
        self.assets = _assets()
        self.reads: SharedReads[bytes] = SharedReads()
        # the streams' views and overview deltas, keyed by change counter: made once for all pages
        # (kept briefly: a view of 1,000 rows is megabytes as Python objects)
        self.views: SharedReads[tuple[str, dict[str, Any]]] = SharedReads(max_age=0.5, forget_after=1.0)
        self.deltas: SharedReads[str | None] = SharedReads(max_age=2.0, forget_after=2.0)
        self.live = LiveObjects(cluster)
        self.csrf_secret = new_token()
        self.boot = new_token()[:8]  # tells this start's event ids from a previous one's
        self.access = KubernetesAccess(cluster) if settings.auth == AUTH_KUBERNETES else None

    # -- who is asking
    def admit(self, method: str, found: Route, headers: dict[str, str]) -> Caller:
        verdict = check_write(method, headers)
        if not verdict.allowed:
            raise RouteError(verdict.status, verdict.message)
        if found.kind == "login":
            return Caller()  # the credential is in the body
        caller = self._authenticate(headers)
        if found.kind != "logout":
            verdict = check_csrf(self.csrf_secret, method, caller.credential, headers)
            if not verdict.allowed:
                raise RouteError(verdict.status, verdict.message)
        return caller

    def _authenticate(self, headers: dict[str, str]) -> Caller:
        mode = self.settings.auth
        if mode == AUTH_NONE:
            return Caller()
        if mode == AUTH_TOKEN:
            verdict, credential = check_token(self.settings.token or "", headers)
            if not verdict.allowed:
                raise RouteError(verdict.status, verdict.message)
            return Caller(credential)
        assert self.access is not None
        offered = offered_credentials(headers)
        if not offered:
            raise RouteError(401, "missing token: sign in with a Kubernetes bearer token")
        try:
            return Caller(offered[0], self.access.authenticate(offered[0].value))
        except AccessError as error:
            raise RouteError(error.status, error.message) from None

    def authorize(self, caller: Caller, checks: Any) -> set[str]:
        """With ``--auth kubernetes``: 403 unless the user may; the optional resources refused."""
        if self.access is None or caller.user is None:
            return set()
        try:
            return self.access.authorize(caller.user, checks)
        except AccessError as error:
            raise RouteError(error.status, error.message) from None

    def authorize_view(self, caller: Caller, found: Route) -> set[str]:
        namespace = self.list_namespace(found.namespace) if found.kind == "list" else found.namespace
        return self.authorize(caller, read_checks(found.kind, namespace, found.name))

    def session(self, caller: Caller) -> dict[str, Any]:
        credential = caller.credential.value if caller.credential is not None else ""
        return {
            "auth": self.settings.auth,
            "user": caller.user.username if caller.user is not None else None,
            "csrfToken": csrf_token(self.csrf_secret, credential),
        }

    def login(self, token: str) -> dict[str, Any]:
        if self.settings.auth == AUTH_NONE:
            raise RouteError(400, "this dashboard runs without auth: there is nothing to sign in to")
        if self.settings.auth == AUTH_TOKEN:
            if not token_matches(self.settings.token or "", token):
                raise RouteError(401, "invalid token: open the URL printed by `kubectl rollouts dashboard`")
            return self.session(Caller(Credential(token, from_cookie=True)))
        assert self.access is not None
        try:
            user = self.access.authenticate(token)
        except AccessError as error:
            raise RouteError(error.status, error.message) from None
        return self.session(Caller(Credential(token, from_cookie=True), user))

    # -- what is shown
    def scoped(self, namespace: str, cluster: Cluster | None = None) -> Cluster:
        if not self.settings.all_namespaces and namespace != self.settings.namespace:
            raise RouteError(
                403,
                f"this dashboard shows namespace {self.settings.namespace!r} only "
                "(start it with -A for every namespace)",
            )
        return dataclasses.replace(cluster or self.cluster, namespace=namespace)

    def list_namespace(self, asked: str) -> str:
        """The namespace a list shows: the one asked, else every one (-A) or the started one."""
        if asked:
            self.scoped(asked)
            return asked
        return "" if self.settings.all_namespaces else self.settings.namespace

    def list_rollouts(self, namespace: str) -> dict[str, Any]:
        shown = self.list_namespace(namespace)
        cluster = self.scoped(shown or self.settings.namespace)
        rollouts = cluster.list_objects("Rollout", all_namespaces=not shown)
        namespaces = sorted({str(r.get("metadata", {}).get("namespace", "")) for r in rollouts})
        replica_sets = [rs for ns in namespaces for rs in cluster.replica_sets(ns)]
        return overview(rollouts, replica_sets, datetime.now(UTC))

    def detail(self, namespace: str, name: str, refused: set[str]) -> dict[str, Any]:
        cluster = self.scoped(namespace)
        rollout = cluster.get("Rollout", name)
        children = children_of(cluster, namespace)
        if "jobs" in refused:
            children = dataclasses.replace(children, jobs=())
        events = [] if "events" in refused else self.events(cluster, name)
        return rollout_detail(rollout, children, datetime.now(UTC), events)

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

    def live_view(self, found: Route, refused: set[str]) -> dict[str, Any]:
        """The view a stream shows, from the shared watches (no list of the API per page)."""
        now, live = datetime.now(UTC), self.live
        if found.kind == "list":
            shown = self.list_namespace(found.namespace)
            return live_overview(
                overview(live.objects("Rollout", shown), live.objects("ReplicaSet", shown), now)
            )
        namespace, name = self.scoped(found.namespace).namespace, found.name
        rollout = next(
            (
                r
                for r in live.objects("Rollout", namespace)
                if as_mapping(r.get("metadata")).get("name") == name
            ),
            None,
        )
        if rollout is None:
            raise RouteError(404, f'rollouts.argoproj.io "{name}" not found')
        children = Children(
            replica_sets=live.objects("ReplicaSet", namespace),
            pods=live.objects("Pod", namespace),
            analysis_runs=live.objects("AnalysisRun", namespace),
            experiments=live.objects("Experiment", namespace),
            jobs=() if "jobs" in refused else live.objects("Job", namespace, optional=True),
        )
        events = [] if "events" in refused else live.objects("Event", namespace, optional=True)
        return rollout_detail(rollout, children, now, [event for event in events if _involves(event, name)])

    # -- what is done
    def act(self, found: Route, raw_body: bytes, caller: Caller) -> dict[str, Any]:
        body = parse_action_body(raw_body)
        cluster = self.scoped(found.namespace)
        acting = None
        if self.access is not None and caller.credential is not None:
            self.authorize(caller, action_read_checks(found.namespace, found.name, found.action))
            acting = cluster = self.scoped(found.namespace, self.access.as_user(caller.credential.value))
        try:
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
            self.authorize(caller, action_write_checks(found.namespace, found.name, patches))
            apply_patches(cluster, "Rollout", found.name, patches)
        finally:
            if acting is not None:
                acting.api_client.close()
        self.reads.clear()
        return {"message": patches.message or f"rollout '{found.name}' {_outcome_word(found.action)}"}


def _outcome_word(action: str) -> str:
    words = {"promote": "promoted", "abort": "aborted", "retry": "retried", "pause": "paused"}
    return words.get(action, f"{action}d" if action.endswith("e") else f"{action}ed")


SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # no clickjacking of the action buttons
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
}


def _handler(dashboard: _Dashboard) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "rollouts-dashboard"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # stdlib's name
            """Quiet: a live page would fill the terminal."""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _head(self, status: int, content_type: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for key, value in {**SECURITY_HEADERS, **headers}.items():
                self.send_header(key, value)
            self.end_headers()

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self._head(status, content_type, {"Content-Length": str(len(body)), **(headers or {})})
            self.wfile.write(body)

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

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
                caller = dashboard.admit(method, found, headers)
                if found.stream:
                    self._stream(found, caller, sse.last_event_id(headers, dashboard.boot))
                    return
                if found.kind in ("list", "detail"):
                    refused = dashboard.authorize_view(caller, found)
                    key = f"{found.kind}/{found.namespace}/{found.name}/{sorted(refused)}"
                    body = dashboard.reads.get(key, lambda: json.dumps(self._read(found, refused)).encode())
                    self._send(200, body, "application/json")
                    return
                self._answer(found, caller)
            except RouteError as error:
                self.close_connection = True  # a refused request's body may still be unread
                extra = {"auth": dashboard.settings.auth} if error.status == 401 else {}
                self._json(error.status, {"error": error.message, **extra})
            except ApiError as error:
                status = error.status if error.status in (403, 404, 409, 422) else 502
                self._json(status, {"error": error.message})
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the page went away mid-answer
            except Exception as error:  # one bad request must not take the page down with a reset
                self.close_connection = True
                self._json(500, {"error": f"internal error: {type(error).__name__}: {error}"})

        def _read(self, found: Route, refused: set[str]) -> Any:
            if found.kind == "list":
                return dashboard.list_rollouts(found.namespace)
            return dashboard.detail(found.namespace, found.name, refused)

        def _answer(self, found: Route, caller: Caller) -> None:
            if found.kind == "version":
                settings = dashboard.settings
                self._json(
                    200,
                    {
                        "version": __version__,
                        "namespace": settings.namespace,
                        "allNamespaces": settings.all_namespaces,
                        "auth": settings.auth,
                    },
                )
            elif found.kind == "session":
                self._json(200, dashboard.session(caller))
            elif found.kind == "login":
                token = parse_login_body(self._read_body())
                self._json(200, dashboard.login(token), {"Set-Cookie": session_cookie(token)})
            elif found.kind == "logout":
                self._json(200, {"message": "signed out"}, {"Set-Cookie": cleared_cookie()})
            else:
                self._json(200, dashboard.act(found, self._read_body(), caller))

        def _stream(self, found: Route, caller: Caller, resumed: int | None) -> None:
            """Server-sent events: the view now, then again after each change (see `sse`);
            ``resumed``: the change counter a reconnecting page last saw."""
            refused = dashboard.authorize_view(caller, found)
            key = f"{found.kind}/{found.namespace}/{found.name}/{sorted(refused)}"

            def make() -> tuple[str, dict[str, Any]]:
                view = dashboard.live_view(found, refused)
                return json.dumps(view), view

            def render(version: int) -> tuple[str, dict[str, Any]]:
                return dashboard.views.get(f"{key}@{version}", make)

            def delta(sent: tuple[str, dict[str, Any]], now: tuple[str, dict[str, Any]]) -> str | None:
                """The rows-only update from what the page holds to ``now`` (None: send it all);
                pages holding the same view share it (the texts' hashes key it; a str caches its
                hash, so this is cheap after the first page)."""

                def make_delta() -> str | None:
                    found_delta = sse.overview_delta(sent[1], now[1])
                    return None if found_delta is None else json.dumps(found_delta)

                return dashboard.deltas.get(f"{key}@{hash(sent[0])}->{hash(now[0])}", make_delta)

            try:
                seen = dashboard.live.version
                shown = render(seen)  # an unknown rollout is a plain 404, before any event
            except PermissionError as error:
                raise RouteError(403, str(error)) from None
            except TimeoutError as error:
                raise RouteError(502, str(error)) from None
            self.close_connection = True
            self._head(
                200, "text/event-stream; charset=utf-8", {"Connection": "close", "X-Accel-Buffering": "no"}
            )
            self.wfile.write(f"retry: {sse.RETRY_MILLISECONDS}\n\n".encode())
            held = shown if resumed == seen else None  # the page holds this very view
            last_write = time.monotonic()
            ends = last_write + sse.STREAM_SECONDS
            while True:
                step = sse.next_message(held[0] if held else None, shown[0], time.monotonic() - last_write)
                if step.message is not None:
                    rows = delta(held, shown) if held is not None else None
                    event_id = sse.event_id(dashboard.boot, seen)
                    if rows is None:
                        self.wfile.write(sse.frame(shown[0], event_id=event_id))
                    else:
                        self.wfile.write(sse.frame(rows, event_id=event_id, event="rows"))
                    held, last_write = shown, time.monotonic()
                elif step.heartbeat:
                    self.wfile.write(sse.comment("keep-alive"))
                    last_write = time.monotonic()
                self.wfile.flush()
                if time.monotonic() > ends:
                    return
                if dashboard.live.wait(seen, sse.HEARTBEAT_SECONDS) != seen:
                    time.sleep(sse.COALESCE_SECONDS)  # let the rest of a burst arrive first
                seen = dashboard.live.version
                try:
                    shown = render(seen)
                except (RouteError, PermissionError) as error:  # deleted while shown, or access lost
                    message = error.message if isinstance(error, RouteError) else str(error)
                    self.wfile.write(sse.frame(json.dumps({"error": message}), event="failure"))
                    return

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
    """Refuse to serve the cluster beyond this machine without per-user auth."""
    refusal = bind_refusal(settings.address, settings.auth)
    if refusal is not None:
        raise ValueError(refusal)
    if settings.auth == AUTH_TOKEN and not settings.token:
        raise ValueError("auth mode token needs a token")


def make_server(settings: DashboardSettings, cluster: Cluster) -> ThreadingHTTPServer:
    check_address(settings)
    server = ThreadingHTTPServer((settings.address, settings.port), _handler(_Dashboard(settings, cluster)))
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer, settings: DashboardSettings) -> str:
    address, port = server.server_address[:2]
    host = address.decode() if isinstance(address, bytes) else str(address)
    shown = f"[{host}]" if ":" in host else host
    query = f"?token={settings.token}" if settings.token and settings.auth == AUTH_TOKEN else ""
    return f"http://{shown}:{port}/{query}"


def serve(settings: DashboardSettings, cluster: Cluster, *, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; ``announce`` gets the URL to open (with the token in it)."""
    server = make_server(settings, cluster)
    announce(url_of(server, settings))
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
