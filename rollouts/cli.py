"""The ``rollouts`` command: controller, dev-cluster, demo and maintenance subcommands.

Each subcommand lives in its own module that exposes ``register(subparsers)``; this module only
collects them, so adding a command never means editing a growing ``if`` chain here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand name -> module exposing ``register(subparsers: argparse._SubParsersAction) -> None``.
# The registered parser sets ``func`` (argparse.Namespace -> int exit code) as its default.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "rollouts.devcluster.cli",
    "rollouts.crds.cli",
    "rollouts.demo",
    "rollouts.controller.cli",
    "rollouts.workflowcli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rollouts",
        description="rollouts: progressive delivery for Kubernetes (Argo Rollouts compatible).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
