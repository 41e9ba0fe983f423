"""``rollouts workflow run|get|list|logs|stop|terminate``: the shell around the pure modules.

``run`` checks its input first (`manifests`), then either runs the workflow here with the local
executor (``--local``), creates a ``WorkflowRun`` that the controller runs, or, with ``--argo``,
hands it to a real Argo Workflows (`analysis.workflows.delegate`). The screen is `tree.render_run`:
redrawn in place on a terminal, printed once at the end otherwise. Exit codes: 0 Succeeded,
1 Failed/Error (or an API failure), 2 bad input; nothing is created when the input is bad.

Cluster access goes through the plugin's `kube` helpers (kubeconfig loading, kubectl-worded API
errors); runs are our ``WorkflowRun`` objects unless ``--argo`` names Argo's ``Workflow`` kind.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from analysis.workflows import delegate
from analysis.workflows.engine import assign_name, run_locally
from analysis.workflows.runs import PLURAL, submit
from analysis.workflows.spec import Workflow
from analysis.workflows.status import FINAL_PHASES, GROUP, VERSION, WorkflowStatus
from rollouts.plugin.errors import PluginError
from rollouts.plugin.get import dump, palette_for
from rollouts.plugin.kube import Cluster, api_errors, connect_from
from rollouts.plugin.lint import read_manifest
from rollouts.plugin.tables import format_table
from rollouts.plugin.terminal import redraw
from rollouts.plugin.watching import Frame, watch
from rollouts.workflowcli.manifests import BadInputError, load_workflow, parameter_file, parse_parameter
from rollouts.workflowcli.tree import RunView, pod_of, render_run, short_duration, status_word

__all__ = ["exit_code", "guarded", "run_command"]

RESOURCE: Final = f"{PLURAL}.{GROUP}"
ARGO_RESOURCE: Final = f"{delegate.ARGO_PLURAL}.{delegate.ARGO_GROUP}"
POLL_SECONDS: Final = 1.0
LOCAL_NAMESPACE: Final = "(local)"


def exit_code(phase: str | None) -> int:
    return 0 if phase == "Succeeded" else 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``error: <message>`` on stderr and the error's exit code, as the plugin's ``main`` does."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except PluginError as error:
            sys.stdout.flush()
            print(f"error: {error.message}", file=sys.stderr)
            return error.exit_code
        except KeyboardInterrupt:
            print(file=sys.stderr)
            return 130

    return run


class _Screen:
    """Redraws frames in place on a terminal; elsewhere keeps only the last one for the end."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.height = 0
        self.last = ""

    def show(self, text: str) -> None:
        self.last = text
        if self.live:
            size = shutil.get_terminal_size()
            output, self.height = redraw(
                self.height, text.rstrip("\n").split("\n"), size.columns, size.lines - 1
            )
            sys.stdout.write(output)
            sys.stdout.flush()

    def finish(self) -> None:
        if not self.live:
            sys.stdout.write(self.last)
            sys.stdout.flush()


def _parameters(args: argparse.Namespace) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if args.parameter_file:
        try:
            text = read_manifest(args.parameter_file)
        except PluginError as error:
            raise BadInputError(error.message) from None
        found += parameter_file(args.parameter_file, text)
    return found + list(args.parameter or [])


def parameter_flag(text: str) -> tuple[str, str]:
    try:
        return parse_parameter(text)
    except BadInputError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _print_object(obj: Any, output: str) -> None:
    if output == "name":
        sys.stdout.write(f"{(obj.get('metadata') or {}).get('name')}\n")
    else:
        sys.stdout.write(dump(obj, output))


def _run_local(args: argparse.Namespace, workflow: Workflow) -> int:
    palette = palette_for(args)
    screen = _Screen(sys.stdout.isatty() and not args.output)
    workdir = Path(args.workdir or Path.home() / ".cache" / "rollouts" / "workflows")
    named = assign_name(workflow)
    name = named.metadata.name or ""
    arguments = workflow.spec.arguments
    listed = (arguments.parameters if arguments is not None else None) or []
    parameters = [(item.name, str(item.value or "")) for item in listed]

    def on_status(status: WorkflowStatus) -> None:
        view = RunView(name, LOCAL_NAMESPACE, status, parameters=parameters)
        screen.show(render_run(view, utc_now(), palette))

    _, status = run_locally(named, workdir, on_status=on_status)
    if args.output:
        _print_object({"metadata": {"name": name}, "status": status.model_dump(by_alias=True)}, args.output)
    else:
        screen.finish()
    return exit_code(status.phase)


def _fetch(cluster: Cluster, name: str, argo: bool) -> dict[str, Any]:
    from kubernetes import client

    with api_errors(ARGO_RESOURCE if argo else RESOURCE, name):
        if argo:
            return delegate.get_argo_workflow(cluster.api_client, cluster.namespace, name)
        api: Any = client.CustomObjectsApi(cluster.api_client)
        found: dict[str, Any] = api.get_namespaced_custom_object(
            GROUP, VERSION, cluster.namespace, PLURAL, name
        )
        return found


def _phase(obj: dict[str, Any]) -> str | None:
    phase = (obj.get("status") or {}).get("phase")
    return str(phase) if phase else None


def _follow(args: argparse.Namespace, cluster: Cluster, name: str, argo: bool) -> int:
    palette = palette_for(args)
    screen = _Screen(bool(args.watch) and sys.stdout.isatty() and not args.output)
    while True:
        obj = _fetch(cluster, name, argo)
        if not args.output:
            screen.show(render_run(RunView.of(obj), utc_now(), palette))
        if _phase(obj) in FINAL_PHASES:
            break
        time.sleep(POLL_SECONDS)
    if args.output:
        _print_object(obj, args.output)
    else:
        screen.finish()
    return exit_code(_phase(obj))


@guarded
def run_command(args: argparse.Namespace) -> int:
    workflow = load_workflow(args.file, _parameters(args))
    if args.local:
        if args.argo:
            raise BadInputError("--local and --argo exclude each other")
        return _run_local(args, workflow)
    cluster = connect_from(args)
    if args.argo:
        try:
            with api_errors(ARGO_RESOURCE):
                created = delegate.submit_to_argo(cluster.api_client, workflow, cluster.namespace)
        except delegate.ArgoUnavailableError as error:
            raise BadInputError(str(error)) from None
    else:
        with api_errors(RESOURCE):
            created = submit(cluster.api_client, workflow, cluster.namespace)
    name = str(created["metadata"]["name"])
    if not (args.wait or args.watch):
        if args.output:
            _print_object(created, args.output)
        else:
            sys.stdout.write(render_run(RunView.of(created), utc_now(), palette_for(args)))
        return 0
    return _follow(args, cluster, name, args.argo)


@guarded
def get_command(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    if args.output in ("json", "yaml"):
        _print_object(_fetch(cluster, args.name, args.argo), args.output)
        return 0
    palette = palette_for(args)
    wide = args.output == "wide"

    def frame() -> Frame:
        obj = _fetch(cluster, args.name, args.argo)
        phase = _phase(obj)
        return Frame(
            render_run(RunView.of(obj), utc_now(), palette, wide=wide), 0 if phase in FINAL_PHASES else None
        )

    if not args.watch:
        sys.stdout.write(frame().text)
        return 0
    watch(frame, stream=sys.stdout, live=sys.stdout.isatty(), interval=POLL_SECONDS)
    return 0


def list_rows(items: list[dict[str, Any]], now: datetime, *, namespaces: bool) -> list[list[str]]:
    """``argo list`` rows: NAME STATUS AGE DURATION PRIORITY MESSAGE (NAMESPACE first with -A)."""
    from rollouts.planner.inputs import parse_time

    rows = []
    for item in sorted(
        items, key=lambda obj: str((obj.get("metadata") or {}).get("creationTimestamp") or ""), reverse=True
    ):
        metadata = item.get("metadata") or {}
        status = item.get("status") or {}
        created = parse_time(metadata.get("creationTimestamp"))
        started, finished = parse_time(status.get("startedAt")), parse_time(status.get("finishedAt"))
        row = [
            str(metadata.get("name") or ""),
            status_word(RunView.of(item)),
            short_duration((now - created).total_seconds()) if created else "",
            short_duration(((finished or now) - started).total_seconds()) if started else "",
            str((item.get("spec") or {}).get("priority") or 0),
            str(status.get("message") or ""),
        ]
        rows.append([str(metadata.get("namespace") or ""), *row] if namespaces else row)
    return rows


@guarded
def list_command(args: argparse.Namespace) -> int:
    from kubernetes import client

    cluster = connect_from(args)
    api: Any = client.CustomObjectsApi(cluster.api_client)
    with api_errors(RESOURCE):
        if args.all_namespaces:
            listed = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        else:
            listed = api.list_namespaced_custom_object(GROUP, VERSION, cluster.namespace, PLURAL)
    items = list(listed.get("items") or [])
    if args.output in ("json", "yaml"):
        sys.stdout.write(dump(items, args.output))
        return 0
    if not items:
        sys.stdout.write("No workflows found\n")
        return 0
    headers = ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"]
    if args.all_namespaces:
        headers = ["NAMESPACE", *headers]
    sys.stdout.write(format_table(headers, list_rows(items, utc_now(), namespaces=args.all_namespaces)))
    return 0


def _pods_of(cluster: Cluster, name: str, step: str | None, obj: dict[str, Any]) -> list[str]:
    """The run's pod names in start order; ``step`` narrows to one pod (its name or a node's)."""
    status = RunView.of(obj).status
    nodes = sorted(
        (node for node in status.nodes.values() if node.type == "Pod"),
        key=lambda node: (node.started_at or "", node.name),
    )
    names = [pod_of(str((obj.get("metadata") or {}).get("name")), node) for node in nodes]
    if step is None:
        return names
    for node, pod in zip(nodes, names, strict=True):
        if step in (pod, node.name, node.display_name):
            return [pod]
    raise PluginError(f'workflow "{name}" has no step or pod "{step}"')


def _print_log(cluster: Cluster, pod: str, container: str, follow: bool) -> None:
    from kubernetes import client

    core: Any = client.CoreV1Api(cluster.api_client)
    with api_errors("pods", pod):
        if follow:
            stream = core.read_namespaced_pod_log(
                pod, cluster.namespace, container=container, follow=True, _preload_content=False
            )
            for line in stream.stream():
                for text in line.decode(errors="replace").splitlines():
                    sys.stdout.write(f"{pod}: {text}\n")
                    sys.stdout.flush()
            return
        text = core.read_namespaced_pod_log(pod, cluster.namespace, container=container)
    for line in str(text).splitlines():
        sys.stdout.write(f"{pod}: {line}\n")


def _pod_started(cluster: Cluster, pod: str) -> bool:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core: Any = client.CoreV1Api(cluster.api_client)
    try:
        found = core.read_namespaced_pod(pod, cluster.namespace)
    except ApiException as error:
        if error.status == 404:
            return False
        raise
    return str(found.status.phase) in ("Running", "Succeeded", "Failed")


@guarded
def logs_command(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    shown: set[str] = set()
    while True:
        obj = _fetch(cluster, args.name, False)
        done = _phase(obj) in FINAL_PHASES
        for pod in _pods_of(cluster, args.name, args.step, obj):
            if pod in shown or not _pod_started(cluster, pod):
                continue
            _print_log(cluster, pod, args.container, args.follow)
            shown.add(pod)
        if not args.follow or done:
            return 0
        time.sleep(POLL_SECONDS)


def _shutdown(strategy: str, word: str) -> Callable[[argparse.Namespace], int]:
    @guarded
    def command(args: argparse.Namespace) -> int:
        from kubernetes import client

        cluster = connect_from(args)
        if args.argo:
            with api_errors(ARGO_RESOURCE, args.name):
                delegate.shutdown_argo_workflow(cluster.api_client, cluster.namespace, args.name, strategy)
        else:
            with api_errors(RESOURCE, args.name):
                client.CustomObjectsApi(cluster.api_client).patch_namespaced_custom_object(
                    GROUP, VERSION, cluster.namespace, PLURAL, args.name, {"spec": {"shutdown": strategy}}
                )
        sys.stdout.write(f"workflow {args.name} {word}\n")
        return 0

    return command


stop_command = _shutdown("Stop", "stopped")
terminate_command = _shutdown("Terminate", "terminated")
