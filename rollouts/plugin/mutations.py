"""The commands that change a Rollout, Experiment or AnalysisRun with one patch each:
``promote [--full]``, ``abort``, ``retry rollout|experiment``, ``pause``, ``resume``,
``restart [--in]``, ``undo [--to-revision]``, ``terminate analysisrun|experiment``.

The patches themselves come from `rollouts.planner.operations` (the same pure functions the
controller's tests and the dashboard use), so each mutation is exactly Argo's (reference §3.11):
a spec merge patch on the main resource, a status merge patch on the ``status`` subresource, or
undo's JSON patch. This module only fetches, sends and prints Argo's one-line outcome.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from rollouts.planner import operations
from rollouts.planner.inputs import RolloutView, as_list, as_mapping, as_str
from rollouts.planner.operations import OperationError, Patches
from rollouts.plugin.ages import go_duration
from rollouts.plugin.errors import PluginError
from rollouts.plugin.kube import Cluster, connect_from
from rollouts.plugin.options import connection_flags, duration, non_negative_int

__all__ = ["apply_patches", "owned_replica_sets", "register"]


def apply_patches(cluster: Cluster, kind: str, name: str, patches: Patches) -> None:
    if patches.spec is not None:
        cluster.merge_patch(kind, name, patches.spec)
    if patches.status is not None:
        cluster.merge_patch(kind, name, patches.status, status=True)
    if patches.json_patch is not None:
        cluster.json_patch(kind, name, patches.json_patch)


def _operate(args: argparse.Namespace, build: Any, outcome: str) -> int:
    cluster = connect_from(args)
    rollout = cluster.get("Rollout", args.name)
    try:
        patches = build(rollout)
    except OperationError as error:
        raise PluginError(str(error)) from None
    apply_patches(cluster, "Rollout", args.name, patches)
    print(patches.message or f"rollout '{args.name}' {outcome}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    if args.full:
        return _operate(args, operations.promote_full, "fully promoted")
    return _operate(args, operations.promote, "promoted")


def _abort(args: argparse.Namespace) -> int:
    return _operate(args, operations.abort, "aborted")


def _retry_rollout(args: argparse.Namespace) -> int:
    return _operate(args, operations.retry, "retried")


def _pause(args: argparse.Namespace) -> int:
    return _operate(args, operations.pause, "paused")


def _resume(args: argparse.Namespace) -> int:
    return _operate(args, operations.resume, "resumed")


def _restart(args: argparse.Namespace) -> int:
    delay: timedelta = args.in_
    now = datetime.now(UTC)
    return _operate(
        args,
        lambda rollout: operations.restart(rollout, now=now, delay=delay),
        f"restarts in {go_duration(delay)}",
    )


def owned_replica_sets(rollout: dict[str, Any], replica_sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    uid = as_str(as_mapping(rollout.get("metadata")).get("uid"))
    return [
        rs
        for rs in replica_sets
        if any(
            as_mapping(ref).get("uid") == uid
            for ref in as_list(as_mapping(rs.get("metadata")).get("ownerReferences"))
        )
    ]


def _undo(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    rollout = cluster.get("Rollout", args.name)
    history = owned_replica_sets(rollout, cluster.replica_sets())
    workload = as_mapping(RolloutView(rollout).spec.get("workloadRef"))
    if workload:
        # the template lives in the referenced workload: compare against it and patch it instead
        kind, workload_name = as_str(workload.get("kind")), as_str(workload.get("name"))
        target = cluster.read_workload(kind, workload_name)
        template_path = "/template" if kind == "PodTemplate" else "/spec/template"
        template = (
            target.get("template")
            if kind == "PodTemplate"
            else as_mapping(target.get("spec")).get("template")
        )
        resolved = {**rollout, "spec": {**as_mapping(rollout.get("spec")), "template": template}}
        patches = _undo_patches(resolved, history, args.to_revision)
        if patches.json_patch is not None:
            operations_ = [{**op, "path": template_path} for op in patches.json_patch]
            cluster.patch_workload(kind, workload_name, operations_)
    else:
        patches = _undo_patches(rollout, history, args.to_revision)
        apply_patches(cluster, "Rollout", args.name, patches)
    print(patches.message)
    return 0


def _undo_patches(rollout: dict[str, Any], history: list[dict[str, Any]], to_revision: int) -> Patches:
    try:
        return operations.undo(rollout, history, to_revision=to_revision)
    except OperationError as error:
        raise PluginError(str(error)) from None


def _retry_experiment(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    cluster.get("Experiment", args.name)
    cluster.merge_patch("Experiment", args.name, {"status": None})
    print(f"experiment '{args.name}' retried")
    return 0


def _terminate(kind: str, label: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        cluster = connect_from(args)
        cluster.get(kind, args.name)
        cluster.merge_patch(kind, args.name, {"spec": {"terminate": True}})
        print(f"{label} '{args.name}' terminated")
        return 0

    return run


def _command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    *,
    examples: str,
    func: Any,
    aliases: tuple[str, ...] = (),
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name,
        aliases=list(aliases),
        parents=[connection_flags()],
        help=help_text,
        description=help_text,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME")
    parser.set_defaults(func=func)
    return parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    promote = _command(
        subparsers,
        "promote",
        "Resume a paused rollout, or skip its current step; --full skips every step, pause and analysis",
        examples="  kubectl rollouts promote guestbook\n  kubectl rollouts promote guestbook --full\n",
        func=_promote,
    )
    promote.add_argument("--full", action="store_true", help="promote straight to the new version")
    _command(
        subparsers,
        "abort",
        "Abort a rollout: go back to the stable version",
        examples="  kubectl rollouts abort guestbook\n",
        func=_abort,
    )
    _command(
        subparsers,
        "pause",
        "Pause a rollout (spec.paused)",
        examples="  kubectl rollouts pause guestbook\n",
        func=_pause,
    )
    _command(
        subparsers,
        "resume",
        "Resume a paused rollout: unpause and clear every pause condition (Argo CD's resume action)",
        examples="  kubectl rollouts resume guestbook\n",
        func=_resume,
    )
    restart = _command(
        subparsers,
        "restart",
        "Restart the pods of a rollout (spec.restartAt), now or after a delay",
        examples="  kubectl rollouts restart guestbook\n  kubectl rollouts restart guestbook --in 10m\n",
        func=_restart,
    )
    restart.add_argument(
        "-i",
        "--in",
        dest="in_",
        type=duration,
        default=timedelta(0),
        metavar="DURATION",
        help="restart after this long (Go duration such as 30s, 5m, or seconds)",
    )
    undo = _command(
        subparsers,
        "undo",
        "Roll back to a previous revision's pod template",
        examples="  kubectl rollouts undo guestbook\n  kubectl rollouts undo guestbook --to-revision 3\n",
        func=_undo,
    )
    undo.add_argument(
        "--to-revision",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="revision to go back to (0: the previous one)",
    )

    retry = subparsers.add_parser("retry", help="Retry an aborted rollout or a finished experiment")
    retry_kinds = retry.add_subparsers(dest="kind", metavar="KIND")
    retry_kinds.required = True
    _command(
        retry_kinds,
        "rollout",
        "Retry an aborted rollout (status.abort=false)",
        examples="  kubectl rollouts retry rollout guestbook\n",
        func=_retry_rollout,
        aliases=("ro", "rollouts"),
    )
    _command(
        retry_kinds,
        "experiment",
        "Run an experiment again (its status is wiped)",
        examples="  kubectl rollouts retry experiment my-experiment\n",
        func=_retry_experiment,
        aliases=("exp", "experiments"),
    )

    terminate = subparsers.add_parser("terminate", help="Stop an AnalysisRun or an Experiment early")
    terminate_kinds = terminate.add_subparsers(dest="kind", metavar="KIND")
    terminate_kinds.required = True
    _command(
        terminate_kinds,
        "analysisrun",
        "Terminate an AnalysisRun (spec.terminate=true)",
        examples="  kubectl rollouts terminate analysisrun guestbook-6cf78c66c5-2-1\n",
        func=_terminate("AnalysisRun", "analysisrun"),
        aliases=("ar", "analysisruns"),
    )
    _command(
        terminate_kinds,
        "experiment",
        "Terminate an Experiment (spec.terminate=true)",
        examples="  kubectl rollouts terminate experiment my-experiment\n",
        func=_terminate("Experiment", "experiment"),
        aliases=("exp", "experiments"),
    )
