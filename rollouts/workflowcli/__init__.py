"""``rollouts workflow``: run Argo Workflow manifests locally, on the cluster, or through Argo.

The subcommands mirror the ``argo`` CLI users know (``submit``/``get``/``list``/``logs``/
``stop``/``terminate``, reference §9): this module only declares the parser; `manifests` reads
and checks input, `tree` renders the ``argo get`` screen (both pure), `commands` does the I/O.
"""

from __future__ import annotations

import argparse

from rollouts.plugin.options import connection_flags, truth
from rollouts.workflowcli import commands, cron_commands

__all__ = ["register"]

EPILOG = """examples:
  rollouts workflow run examples/workflows/pipeline.yaml --local -p rows=5
  rollouts workflow run pipeline.yaml -n data --watch
  rollouts workflow run pipeline.yaml --argo --wait      # hand it to an installed Argo Workflows
  rollouts workflow get pipeline-x7k2p
  rollouts workflow logs pipeline-x7k2p fetch --follow
  rollouts workflow cron create examples/workflows/cron.yaml
"""


def _display_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-color", action="store_true", help="never colour (NO_COLOR is honoured too)")


def _argo_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--argo", action="store_true", help=f"{what} an argoproj.io Workflow (Argo Workflows installed)"
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    workflow = subparsers.add_parser(
        "workflow",
        help="run and inspect Argo-style workflows",
        description="Run Argo Workflow manifests with our engine (here or on the cluster) or through Argo.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands_parser = workflow.add_subparsers(dest="workflow_command", metavar="COMMAND")
    commands_parser.required = True
    connection = connection_flags()

    run = commands_parser.add_parser(
        "run",
        parents=[connection],
        help="run a Workflow manifest",
        description=(
            "Run a Workflow manifest: here with the local executor (--local), on the cluster as a "
            "WorkflowRun the controller runs, or as a real Argo Workflow (--argo). "
            "Exit code 0 Succeeded, 1 Failed/Error, 2 bad input (nothing is created)."
        ),
    )
    run.add_argument("file", metavar="FILE", help="the Workflow manifest (- for stdin)")
    run.add_argument(
        "-p",
        "--parameter",
        action="append",
        type=commands.parameter_flag,
        metavar="NAME=VALUE",
        help="set a workflow argument; repeatable",
    )
    run.add_argument("--parameter-file", metavar="FILE", help="a YAML/JSON map of argument name to value")
    run.add_argument("--local", action="store_true", help="run here, each step a local process")
    run.add_argument(
        "--workdir", help="where --local keeps step directories (default ~/.cache/rollouts/workflows)"
    )
    _argo_flag(run, "submit as")
    run.add_argument("--wait", action="store_true", help="wait until the run ends and print its tree")
    run.add_argument("-w", "--watch", action="store_true", help="redraw the tree until the run ends")
    run.add_argument("-o", "--output", choices=("json", "yaml", "name"), help="print the object instead")
    _display_flags(run)
    run.set_defaults(func=commands.run_command)

    get = commands_parser.add_parser("get", parents=[connection], help="show a run as argo get does")
    get.add_argument("name", metavar="NAME")
    get.add_argument("-o", "--output", choices=("json", "yaml", "wide"))
    get.add_argument(
        "-w", "--watch", nargs="?", const=True, default=False, type=truth, help="redraw until the run ends"
    )
    _argo_flag(get, "read")
    _display_flags(get)
    get.set_defaults(func=commands.get_command)

    listing = commands_parser.add_parser(
        "list", parents=[connection_flags(all_namespaces=True)], help="list runs as argo list does"
    )
    listing.add_argument("-o", "--output", choices=("json", "yaml"))
    listing.set_defaults(func=commands.list_command)

    logs = commands_parser.add_parser("logs", parents=[connection], help="print the logs of a run's steps")
    logs.add_argument("name", metavar="NAME")
    logs.add_argument("step", metavar="STEP", nargs="?", help="one step (its name) or pod")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    logs.add_argument("-c", "--container", default="main", help="container (default main)")
    logs.set_defaults(func=commands.logs_command)

    for verb, func, what in (
        ("stop", commands.stop_command, "stop a run (exit handlers still run), as argo stop"),
        ("terminate", commands.terminate_command, "terminate a run (no exit handlers), as argo terminate"),
    ):
        parser = commands_parser.add_parser(verb, parents=[connection], help=what)
        parser.add_argument("name", metavar="NAME")
        _argo_flag(parser, f"{verb}")
        parser.set_defaults(func=func)

    cron_commands.register(commands_parser)
