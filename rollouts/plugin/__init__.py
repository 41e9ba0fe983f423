"""``kubectl rollouts``: the kubectl plugin (executable ``kubectl-rollouts``).

Each command lives in its own module under this package and exposes ``register(subparsers)``;
this module only assembles the parser and turns failures into kubectl-style exits: a
`PluginError` prints ``error: <message>`` on stderr and exits with its code, Ctrl-C exits 130
without a traceback. Commands that mutate objects reuse the pure operations of the planner so the
plugin and the controller agree on every patch.

Layers: pure modules (`info`, `trees`, `tables`, `plans`, `linting`, `images`, `statuses`,
`completions`, `ages`, `icons`) turn objects into text or decisions; `kube` is the only module
that talks to the API; the command modules wire the two.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from rollouts.plugin.errors import PluginError

COMMAND_MODULES: tuple[str, ...] = (
    "rollouts.plugin.get",
    "rollouts.plugin.create",
    "rollouts.plugin.completion",
    "rollouts.plugin.dashboard",
    "rollouts.plugin.listing",
    "rollouts.plugin.lint",
    "rollouts.plugin.plan",
    "rollouts.plugin.status",
    "rollouts.plugin.mutations",
    "rollouts.plugin.setters",
    "rollouts.plugin.version",
)

EPILOG = """examples:
  kubectl rollouts get rollout guestbook -w
  kubectl rollouts promote guestbook
  kubectl rollouts status guestbook --timeout 10m
  kubectl rollouts plan -f rollout.yaml
  kubectl rollouts lint -f rollout.yaml
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubectl rollouts",
        description="Manage progressive delivery (Argo Rollouts compatible) from kubectl.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except PluginError as error:
        sys.stdout.flush()
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # `kubectl rollouts list rollouts | head`
        return 0
    return code


def run() -> NoReturn:
    """The executable's entry point: `main`, then exit with its code.

    After Ctrl-C the process leaves at once (``os._exit``) instead of running the interpreter's
    finalizers: the interrupt can land inside the API client's connection pool while it holds a
    lock, and the client's ``__del__`` would then wait on that lock forever (seen once in CI as a
    watch that never exited after Ctrl-C).
    """
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
