"""``rollouts dev-cluster up|down|status``: the command-line face of ``DevCluster``.

Errors the user can act on (no Go, a failed build, a taken port, a part that would not start)
arrive as ``DevClusterError`` and are printed as a message with exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rollouts.devcluster import addons
from rollouts.devcluster.clusters import DEFAULT_DIR, START_TIMEOUT, DevCluster, Status
from rollouts.devcluster.commands import DEFAULT_DENY_IMAGES, DEFAULT_NODES
from rollouts.devcluster.errors import DevClusterError
from rollouts.devcluster.states import READY


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev-cluster",
        help="run a local Kubernetes control plane with fake nodes (for tests and the demo)",
        description="A real kube-apiserver, etcd, controller-manager and scheduler on 127.0.0.1 "
        "plus fake nodes, built from Go modules. See docs/devcluster.md.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    up = actions.add_parser("up", help="build if needed, start, wait until nodes are Ready")
    _add_dir(up)
    up.add_argument(
        "--nodes", type=int, default=DEFAULT_NODES, help="number of fake nodes (default %(default)s)"
    )
    up.add_argument(
        "--with",
        dest="addons",
        default="",
        metavar="ADDONS",
        help=f"comma-separated third-party CRDs to install: {', '.join(sorted(addons.PINS))}",
    )
    up.add_argument(
        "--apiserver-port", type=int, default=0, help="API server port on 127.0.0.1 (default: a free one)"
    )
    up.add_argument(
        "--deny-images",
        default=DEFAULT_DENY_IMAGES,
        help="regular expression: pods with a matching image fail with ErrImagePull (default %(default)s)",
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=START_TIMEOUT,
        help="seconds to wait for Ready nodes (default %(default)s)",
    )
    up.set_defaults(func=_up)

    down = actions.add_parser("down", help="stop the cluster; wait until no process is left")
    _add_dir(down)
    down.set_defaults(func=_down)

    status = actions.add_parser("status", help="is it up, on which ports, which nodes")
    _add_dir(status)
    status.set_defaults(func=_status)


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=str, default=str(DEFAULT_DIR), help="cluster directory (default %(default)s)"
    )


def _report(error: DevClusterError) -> int:
    print(f"rollouts dev-cluster: {error}", file=sys.stderr)
    return 1


def _progress(message: str) -> None:
    print(f"dev-cluster: {message}", file=sys.stderr, flush=True)


def _up(args: argparse.Namespace) -> int:
    cluster = DevCluster(args.dir, progress=_progress)
    try:
        with_ = addons.parse_addon_names(args.addons)
        cluster.up(
            nodes=args.nodes,
            with_=with_,
            apiserver_port=args.apiserver_port,
            deny_images=args.deny_images,
            timeout=args.timeout,
        )
    except DevClusterError as error:
        return _report(error)
    except KeyboardInterrupt:
        print("rollouts dev-cluster: interrupted; the devcluster was stopped", file=sys.stderr)
        return 130
    state = cluster.state()
    server = state.server if state else "?"
    _progress(
        f"up: {server}, {args.nodes} node(s) Ready; stop with: rollouts dev-cluster down --dir {args.dir}"
    )
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    cluster = DevCluster(args.dir)
    try:
        stopped = cluster.down()
    except DevClusterError as error:
        return _report(error)
    print(
        f"stopped the devcluster in {cluster.directory}"
        if stopped
        else f"no devcluster was running in {cluster.directory}"
    )
    return 0


def format_status(status: Status) -> str:
    """The human report of ``status`` (pure, given a Status)."""
    state = status.state
    if state is None:
        return f"no devcluster in {status.directory}"
    running = "running" if status.running else "not running"
    lines = [f"devcluster in {status.directory}: {running} (phase {state.phase})"]
    if state.error:
        lines.append(f"  last error: {state.error}")
    if status.running:
        lines.append(f"  server:     {state.server}")
        lines.append(
            "  ports:      " + ", ".join(f"{name} {port}" for name, port in sorted(state.ports.items()))
        )
        lines.append("  processes:  " + ", ".join(f"{c.part} {c.pid}" for c in state.children))
        lines.append(f"  kubeconfig: {status.directory / 'kubeconfig'}")
    if status.api_error:
        lines.append(f"  API error:  {status.api_error}")
    if status.running and state.phase == READY and not status.api_error:
        ready = sum(node.ready for node in status.nodes)
        lines.append(
            f"  nodes:      {ready}/{len(status.nodes)} Ready: " + ", ".join(n.name for n in status.nodes)
        )
    if not status.running and status.pids_alive:
        lines.append(f"  leftover processes: {', '.join(map(str, status.pids_alive))} (run down)")
    return "\n".join(lines)


def _status(args: argparse.Namespace) -> int:
    cluster = DevCluster(args.dir)
    try:
        status = cluster.status()
    except DevClusterError as error:
        return _report(error)
    print(format_status(status))
    return 0 if status.running else 3
