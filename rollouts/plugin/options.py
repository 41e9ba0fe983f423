"""Flags every command shares (kubectl's connection flags, ``-o``) and the parsers of flag values.

Connection flags live on a parent parser that each command inherits, so ``kubectl rollouts
promote NAME -n ns`` works with the flags after the command, as with kubectl. Value parsers raise
``argparse.ArgumentTypeError`` so a bad value is reported by argparse with the flag's name.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from rollouts.planner.units import go_duration_seconds

__all__ = [
    "connection_flags",
    "duration",
    "filename_flag",
    "non_negative_int",
    "output_flag",
    "truth",
]


def connection_flags(*, all_namespaces: bool = False) -> argparse.ArgumentParser:
    """A parent parser with ``--kubeconfig``, ``--context``, ``-n`` (and ``-A`` when it applies)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("cluster connection (as kubectl)")
    group.add_argument(
        "--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"
    )
    group.add_argument("--context", help="the kubeconfig context to use")
    group.add_argument("-n", "--namespace", help="namespace (default: the context's namespace, else default)")
    if all_namespaces:
        group.add_argument("-A", "--all-namespaces", action="store_true", help="list across all namespaces")
    return parent


def output_flag(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("json", "yaml")) -> None:
    parser.add_argument(
        "-o", "--output", choices=choices, help=f"print the result as {' or '.join(choices)} instead of text"
    )


def filename_flag(parser: argparse.ArgumentParser, *, repeatable: bool) -> None:
    """kubectl's ``-f/--filename`` (``-`` reads stdin)."""
    parser.add_argument(
        "-f",
        "--filename",
        action="append" if repeatable else "store",
        required=True,
        metavar="FILE",
        help="manifest file (- for stdin)" + ("; repeatable" if repeatable else ""),
    )


def duration(text: str) -> timedelta:
    """A Go duration (``30s``, ``5m``, ``1h30m``) or a plain number of seconds; never negative."""
    try:
        seconds = float(int(text)) if text.lstrip("+").isdigit() else go_duration_seconds(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'invalid duration "{text}": use a number of seconds or a Go duration such as 30s, 5m, 1h30m'
        ) from None
    if seconds < 0:
        raise argparse.ArgumentTypeError(f'invalid duration "{text}": must not be negative')
    return timedelta(seconds=seconds)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'invalid number "{text}"') from None
    if value < 0:
        raise argparse.ArgumentTypeError(f'invalid number "{text}": must not be negative')
    return value


def truth(text: str) -> bool:
    """Go's flag syntax for booleans given a value: ``--watch=false``."""
    lowered = text.lower()
    if lowered in ("true", "t", "1", "yes"):
        return True
    if lowered in ("false", "f", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f'invalid boolean "{text}": use true or false')
