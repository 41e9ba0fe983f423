"""``kubectl rollouts completion bash|zsh|fish``: print a completion script (`completions`)."""

from __future__ import annotations

import argparse
import sys

from rollouts.plugin.completions import bash_script, command_tree, fish_script, zsh_script

__all__ = ["register"]

_SCRIPTS = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}


def _run(args: argparse.Namespace) -> int:
    from rollouts.plugin import build_parser

    sys.stdout.write(_SCRIPTS[args.shell](command_tree(build_parser())))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="Print a shell completion script",
        epilog="examples:\n  source <(kubectl-rollouts completion bash)\n"
        "  kubectl-rollouts completion fish | source\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("shell", choices=sorted(_SCRIPTS), metavar="SHELL", help="bash, zsh or fish")
    parser.set_defaults(func=_run)
