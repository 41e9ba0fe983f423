"""``kubectl rollouts dashboard``: serve the web dashboard.

Argo's dashboard listens unauthenticated; ours, on loopback (the default), prints a URL carrying
a random token that every API call must present and acts with the user's kubeconfig.
``--insecure-no-auth`` drops the token and is refused on any address but loopback. Any other
address needs ``--auth kubernetes``: each user signs in with their own Kubernetes bearer token,
checked with TokenReview and SubjectAccessReview, and actions are sent with that token. The
server itself is `rollouts.dashboard`.
"""

from __future__ import annotations

import argparse

from rollouts.dashboard.auth import AUTH_KUBERNETES, AUTH_NONE, AUTH_TOKEN, new_token
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
    if args.insecure_no_auth and args.auth == AUTH_KUBERNETES:
        raise PluginError("--insecure-no-auth and --auth kubernetes contradict each other: pick one")
    mode = AUTH_NONE if args.insecure_no_auth else args.auth
    cluster = connect_from(args)
    settings = DashboardSettings(
        address=args.address,
        port=args.port,
        namespace=cluster.namespace,
        all_namespaces=args.all_namespaces,
        token=new_token() if mode == AUTH_TOKEN else None,
        auth=mode,
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
        epilog=(
            "examples:\n  kubectl rollouts dashboard\n  kubectl rollouts dashboard -A --port 3200\n"
            "  kubectl rollouts dashboard --address 0.0.0.0 --auth kubernetes -n shop\n"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("-p", "--port", type=_port, default=3100, help="port to listen on (default 3100)")
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve without the access token (loopback addresses only)",
    )
    parser.add_argument(
        "--auth",
        choices=(AUTH_TOKEN, AUTH_KUBERNETES),
        default=AUTH_TOKEN,
        help="token: a random token in the printed URL, acting with the kubeconfig (loopback only; "
        "the default); kubernetes: each user's bearer token, checked with TokenReview and "
        "SubjectAccessReview, actions sent with it (required off loopback)",
    )
    parser.set_defaults(func=_run)
