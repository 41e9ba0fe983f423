"""``kubectl rollouts get rollout|experiment NAME [--watch]``: the summary and tree view.

``--watch`` behaves as Argo's: it redraws until Ctrl-C or ``--timeout-seconds``. Because a watch
that never ends is awkward in scripts and CI, ``--until-done`` makes it end by itself: exit 0 once
the rollout is Healthy (experiment Successful), 1 once it is Degraded (experiment Failed, Error or
Inconclusive); with a timeout that passes first, exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import yaml

from rollouts.planner.inputs import RolloutView, as_mapping, as_str
from rollouts.planner.phase import client_phase
from rollouts.plugin.errors import PluginError
from rollouts.plugin.info import Children, experiment_info, rollout_info
from rollouts.plugin.kube import ApiError, Cluster, connect_from
from rollouts.plugin.options import connection_flags, non_negative_int, output_flag
from rollouts.plugin.terminal import Palette, use_color
from rollouts.plugin.trees import render_experiment, render_rollout
from rollouts.plugin.watching import Frame, watch

__all__ = [
    "add_watch_flags",
    "children_of",
    "dump",
    "palette_for",
    "register",
    "rollout_outcome",
    "run_get",
    "watch_or_print",
]

TIMEOUT_EXIT = 2


def palette_for(args: argparse.Namespace) -> Palette:
    enabled = use_color(
        is_tty=sys.stdout.isatty(), environ=os.environ, no_color_flag=getattr(args, "no_color", False)
    )
    return Palette(enabled)


def dump(obj: Any, output: str) -> str:
    if output == "json":
        return json.dumps(obj, indent=2) + "\n"
    return yaml.safe_dump(obj, sort_keys=False)


def children_of(cluster: Cluster, namespace: str) -> Children:
    try:
        jobs = cluster.jobs(namespace)
    except ApiError as error:  # jobs are a detail; a user without batch access still gets the tree
        if error.status != 403:
            raise
        jobs = []
    return Children(
        replica_sets=cluster.replica_sets(namespace),
        pods=cluster.pods(namespace),
        analysis_runs=cluster.list_objects("AnalysisRun"),
        experiments=cluster.list_objects("Experiment"),
        jobs=jobs,
    )


def rollout_outcome(rollout: dict[str, Any]) -> int | None:
    """``--until-done``: 0 once Healthy, 1 once Degraded, else keep watching."""
    phase, _ = client_phase(RolloutView(rollout))
    return {"Healthy": 0, "Degraded": 1}.get(phase)


def experiment_outcome(experiment: dict[str, Any]) -> int | None:
    phase = as_str(as_mapping(experiment.get("status")).get("phase"))
    return 0 if phase == "Successful" else 1 if phase in ("Failed", "Error", "Inconclusive") else None


def watch_or_print(args: argparse.Namespace, draw: Callable[[], tuple[str, int | None]]) -> int:
    """Print one frame, or watch (see the module docstring for when a watch ends)."""
    if not args.watch:
        text, _ = draw()
        sys.stdout.write(text)
        return 0

    def next_frame() -> Frame:
        text, outcome = draw()
        return Frame(text, outcome if args.until_done else None)

    code = watch(
        next_frame, stream=sys.stdout, live=sys.stdout.isatty(), timeout=args.timeout_seconds or None
    )
    if code is None:
        if args.until_done:
            raise PluginError(f"watch exceeded the timeout of {args.timeout_seconds}s", TIMEOUT_EXIT)
        return 0
    return code


def _draw_rollout(rollout: dict[str, Any], children: Children, palette: Palette) -> tuple[str, int | None]:
    return render_rollout(rollout_info(rollout, children, datetime.now(UTC)), palette), rollout_outcome(
        rollout
    )


def _draw_experiment(
    experiment: dict[str, Any], children: Children, palette: Palette
) -> tuple[str, int | None]:
    info = experiment_info(experiment, children, datetime.now(UTC))
    return render_experiment(info, palette), experiment_outcome(experiment)


_DRAWERS: dict[str, Callable[[dict[str, Any], Children, Palette], tuple[str, int | None]]] = {
    "Rollout": _draw_rollout,
    "Experiment": _draw_experiment,
}


def run_get(args: argparse.Namespace, kind: str, name: str) -> int:
    """``get`` of an object already known to exist (used by ``create --watch``)."""
    args.name = name
    args.output = None
    return _show(kind, args)


def _show(kind: str, args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    if args.output:
        if args.watch:
            raise PluginError("--output cannot be combined with --watch")
        sys.stdout.write(dump(cluster.get(kind, args.name), args.output))
        return 0
    palette = palette_for(args)

    def draw() -> tuple[str, int | None]:
        obj = cluster.get(kind, args.name)
        return _DRAWERS[kind](obj, children_of(cluster, cluster.namespace), palette)

    return watch_or_print(args, draw)


def add_watch_flags(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-w", "--watch", action="store_true", help=f"keep redrawing as the {what} changes")
    parser.add_argument(
        "--until-done",
        action="store_true",
        help=f"with --watch: exit once the {what} is done (0 success, 1 failure)",
    )
    parser.add_argument(
        "--timeout-seconds",
        type=non_negative_int,
        default=0,
        help="with --watch: stop after this many seconds (0: never; exit 2 with --until-done)",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the output")


EXAMPLES_ROLLOUT = """examples:
  kubectl rollouts get rollout guestbook
  kubectl rollouts get rollout guestbook -w                 # redraw until Ctrl-C
  kubectl rollouts get rollout guestbook -w --until-done    # CI: exit 0 Healthy, 1 Degraded
  kubectl rollouts get rollout guestbook -o yaml
"""
EXAMPLES_EXPERIMENT = """examples:
  kubectl rollouts get experiment my-experiment
  kubectl rollouts get experiment my-experiment -w
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("get", help="Show a rollout or an experiment as a tree")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for name, aliases, what, run, examples in (
        ("rollout", ["ro", "rollouts"], "rollout", partial(_show, "Rollout"), EXAMPLES_ROLLOUT),
        (
            "experiment",
            ["exp", "experiments"],
            "experiment",
            partial(_show, "Experiment"),
            EXAMPLES_EXPERIMENT,
        ),
    ):
        sub = kinds.add_parser(
            name,
            aliases=aliases,
            parents=[connection_flags()],
            help=f"Show a {what}: status, revisions, ReplicaSets, pods and analysis",
            epilog=examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("name", metavar="NAME")
        add_watch_flags(sub, what)
        output_flag(sub)
        sub.set_defaults(func=run)
