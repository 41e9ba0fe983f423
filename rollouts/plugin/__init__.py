"""``kubectl rollouts``: the kubectl plugin (executable ``kubectl-rollouts``).

Each command lives in its own module under this package and exposes ``register(subparsers)``;
this module only assembles the parser, mirroring ``rollouts.cli``. Commands that mutate objects
reuse the pure operations of the planner so the plugin and the controller agree on every patch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = ("rollouts.plugin.version",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl rollouts",
        description="Manage progressive delivery (Argo Rollouts compatible) from kubectl.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
