"""``kubectl rollouts dashboard``: serve the web dashboard with the user's kubeconfig.

Argo's dashboard listens unauthenticated; ours prints a URL carrying a random token that every
API call must present, and binds loopback by default. ``--insecure-no-auth`` drops the token
and is refused on any address but loopback. The server itself is `rollouts.dashboard`.
"""

from __future__ import annotations

import argparse

from rollouts.dashboard.auth import new_token
from rollouts.dashboard.server import DashboardSettings, serve
from rollouts.plugin.errors import PluginError
from rollouts.plugin.kube import connect_from
from rollouts.plugin.options import connection_flags

__all__ = ["register"]


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f'invalid port "{text}": use 0-65535 (0 picks a free one)')
    return int(text)


def _run(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    settings = DashboardSettings(
        address=args.address,
        port=args.port,
        namespace=cluster.namespace,
        all_namespaces=args.all_namespaces,
        token=None if args.insecure_no_auth else new_token(),
    )
    try:
        serve(settings, cluster, announce=lambda url: print(f"Dashboard: {url}", flush=True))
    except (ValueError, OSError) as error:
        raise PluginError(f"cannot start the dashboard: {error}") from None
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        parents=[connection_flags(all_namespaces=True)],
        help="Serve the rollouts dashboard (a web page) on this machine",
        description="Serve the rollouts dashboard. Open the printed URL: it carries the access token.",
        epilog="examples:\n  kubectl rollouts dashboard\n  kubectl rollouts dashboard -A --port 3200\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=_port, default=3100, help="port to listen on (default 3100)")
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without the access token (loopback addresses only)",
    )
    parser.set_defaults(func=_run)
