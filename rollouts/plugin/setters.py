"""``kubectl rollouts set image NAME CONTAINER=IMAGE``: start a new revision with another image.

A read-modify-update of the Rollout, or of the Deployment its ``workloadRef`` names, retried up
to five times when someone else wrote in between (HTTP 409), as Argo's plugin does. The change
itself is `images.with_image`.
"""

from __future__ import annotations

import argparse
from typing import Any

from rollouts.planner.inputs import as_mapping, as_str
from rollouts.plugin.errors import PluginError
from rollouts.plugin.images import ImageError, parse_assignment, with_image
from rollouts.plugin.kube import Cluster, connect_from
from rollouts.plugin.options import connection_flags

__all__ = ["register"]


def _update_rollout(cluster: Cluster, name: str, container: str, image: str) -> None:
    rollout = cluster.get("Rollout", name)
    spec = dict(as_mapping(rollout.get("spec")))
    spec["template"] = with_image(as_mapping(spec.get("template")), container, image)
    cluster.replace("Rollout", {**rollout, "spec": spec})


def _update_workload(cluster: Cluster, reference: dict[str, Any], container: str, image: str) -> None:
    kind, name = as_str(reference.get("kind")), as_str(reference.get("name"))
    workload = cluster.read_workload(kind, name)
    if kind == "PodTemplate":
        patch: Any = {"template": with_image(as_mapping(workload.get("template")), container, image)}
    else:
        patch = {
            "spec": {
                "template": with_image(
                    as_mapping(as_mapping(workload.get("spec")).get("template")), container, image
                )
            }
        }
    patch["metadata"] = {"resourceVersion": as_mapping(workload.get("metadata")).get("resourceVersion")}
    cluster.patch_workload(kind, name, patch)


def _run(args: argparse.Namespace) -> int:
    try:
        container, image = parse_assignment(args.assignment)
    except ImageError as error:
        raise PluginError(str(error)) from None
    cluster = connect_from(args)

    def attempt() -> None:
        rollout = cluster.get("Rollout", args.name)
        reference = as_mapping(as_mapping(rollout.get("spec")).get("workloadRef"))
        if reference:
            _update_workload(cluster, dict(reference), container, image)
        else:
            _update_rollout(cluster, args.name, container, image)

    try:
        cluster.retry_on_conflict(attempt)
    except ImageError as error:
        raise PluginError(str(error)) from None
    print(f'rollout "{args.name}" image updated')
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    set_parser = subparsers.add_parser("set", help="Change a rollout's pod template")
    what = set_parser.add_subparsers(dest="what", metavar="WHAT")
    what.required = True
    parser = what.add_parser(
        "image",
        parents=[connection_flags()],
        help="Set a container's image (starts a new revision)",
        description="Set the image of a container (CONTAINER=IMAGE, * for all containers).",
        epilog="examples:\n  kubectl rollouts set image guestbook web=nginx:1.27\n"
        "  kubectl rollouts set image guestbook '*=registry.example/guestbook:v2'\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("assignment", metavar="CONTAINER=IMAGE")
    parser.set_defaults(func=_run)
