"""``kubectl rollouts plan -f FILE``: print, without a cluster, the steps each Rollout in the file
will go through (the table is `plans`'s, computed with the controller's own replica math)."""

from __future__ import annotations

import argparse
import json
import sys

import yaml

from rollouts.planner.inputs import RolloutView, as_mapping, as_str
from rollouts.planner.validation import validate_spec
from rollouts.plugin.errors import PluginError
from rollouts.plugin.linemaps import YamlError, parse_documents
from rollouts.plugin.lint import read_manifest
from rollouts.plugin.options import filename_flag
from rollouts.plugin.plans import PlanError, plan_rollout_steps, render_plan

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    try:
        documents = parse_documents(read_manifest(args.filename))
    except YamlError as error:
        raise PluginError(f"{args.filename}:{error.line}: {error}") from None
    rollouts = [
        d.value
        for d in documents
        if isinstance(d.value, dict)
        and d.value.get("kind") == "Rollout"
        and as_str(d.value.get("apiVersion")).startswith("argoproj.io/")
    ]
    if args.name:
        rollouts = [r for r in rollouts if as_str(as_mapping(r.get("metadata")).get("name")) == args.name]
    if not rollouts:
        raise PluginError(
            f"{args.filename}: no Rollout" + (f" named {args.name!r}" if args.name else "") + " found"
        )
    plans = []
    for rollout in rollouts:
        name = as_str(as_mapping(rollout.get("metadata")).get("name"))
        errors = validate_spec(RolloutView(rollout))
        if errors:
            raise PluginError(f"Rollout {name!r} is invalid (see `kubectl rollouts lint`): {errors[0]}")
        try:
            plans.append(plan_rollout_steps(rollout))
        except PlanError as error:
            raise PluginError(f"Rollout {name!r}: {error}") from None
    if args.output == "json":
        print(json.dumps([p.to_dict() for p in plans], indent=2))
    elif args.output == "yaml":
        sys.stdout.write(yaml.safe_dump([p.to_dict() for p in plans], sort_keys=False))
    else:
        sys.stdout.write("\n".join(render_plan(p) for p in plans))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="Show, without a cluster, the steps a Rollout will go through (pods, weights, pauses, analyses)",
        description=__doc__,
        epilog="examples:\n  kubectl rollouts plan -f rollout.yaml\n"
        "  kubectl rollouts plan -f app.yaml --name web -o json\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    filename_flag(parser, repeatable=False)
    parser.add_argument("--name", help="only the Rollout with this name")
    parser.add_argument("-o", "--output", choices=("json", "yaml"), help="print the plan as json or yaml")
    parser.set_defaults(func=_run)
