"""``kubectl rollouts status NAME``: wait for a rollout to finish, for CI.

Prints ``Phase - message`` each time it changes and exits 0 when Healthy, 1 when Degraded (the
message on stderr) and 2 when ``--timeout`` passes first. ``--success-on-pause`` also exits 0
when the rollout pauses, the gate a blue-green pipeline waits for before running its own checks
and promoting (Argo's ``status`` cannot do that). ``--watch=false`` prints once and exits with
the same codes, 0 for a rollout still in progress.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from rollouts.plugin.errors import PluginError
from rollouts.plugin.kube import connect_from
from rollouts.plugin.options import connection_flags, duration, truth
from rollouts.plugin.statuses import TIMEOUT_EXIT, verdict

__all__ = ["register"]

POLL_SECONDS = 1.0


def _run(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    timeout: timedelta = args.timeout
    deadline = time.monotonic() + timeout.total_seconds() if timeout else None
    last = None
    while True:
        result = verdict(cluster.get("Rollout", args.name), success_on_pause=args.success_on_pause)
        if result.line != last:
            print(result.line, flush=True)
            last = result.line
        if result.error:
            raise PluginError(result.error, result.exit_code or 1)
        if result.exit_code is not None:
            return result.exit_code
        if not args.watch:
            return 0
        if deadline is not None and time.monotonic() >= deadline:
            raise PluginError("Rollout status watch exceeded timeout", TIMEOUT_EXIT)
        time.sleep(POLL_SECONDS)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        parents=[connection_flags()],
        help="Wait for a rollout to become Healthy (exit 0) or Degraded (exit 1)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        epilog="examples:\n  kubectl rollouts status guestbook\n"
        "  kubectl rollouts status guestbook --timeout 10m\n"
        "  kubectl rollouts status guestbook --success-on-pause   # blue-green: wait for the preview\n"
        "  kubectl rollouts status guestbook --watch=false\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME")
    parser.add_argument(
        "-w",
        "--watch",
        type=truth,
        nargs="?",
        const=True,
        default=True,
        metavar="BOOL",
        help="keep watching until done (default true; --watch=false prints once)",
    )
    parser.add_argument(
        "-t",
        "--timeout",
        type=duration,
        default=timedelta(0),
        metavar="DURATION",
        help="give up after this long, exit 2 (Go duration or seconds; 0: never)",
    )
    parser.add_argument(
        "--success-on-pause", action="store_true", help="also exit 0 when the rollout is Paused"
    )
    parser.set_defaults(func=_run)
