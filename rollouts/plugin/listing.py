"""``kubectl rollouts list rollouts|experiments [-A]``: one line per object, as ``kubectl get``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from rollouts.plugin.get import dump
from rollouts.plugin.kube import connect_from
from rollouts.plugin.options import connection_flags
from rollouts.plugin.tables import experiment_table, rollout_table
from rollouts.plugin.watching import Frame, watch

__all__ = ["register"]

_KINDS = {"rollouts": "Rollout", "experiments": "Experiment"}


def _name_of(obj: dict[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def _run(args: argparse.Namespace) -> int:
    cluster = connect_from(args)
    kind = _KINDS[args.kind_name]

    def objects() -> list[dict[str, Any]]:
        found = cluster.list_objects(kind, all_namespaces=args.all_namespaces)
        if args.name:
            found = [obj for obj in found if _name_of(obj) == args.name]
        return sorted(found, key=lambda o: (str(o.get("metadata", {}).get("namespace", "")), _name_of(o)))

    def table() -> str:
        found = objects()
        if not found:
            where = "any namespace" if args.all_namespaces else f"namespace {cluster.namespace}"
            return f"No {args.kind_name} found in {where}.\n"
        if kind == "Rollout":
            return rollout_table(found, with_namespace=args.all_namespaces)
        return experiment_table(found, with_namespace=args.all_namespaces, now=datetime.now(UTC))

    if args.output == "name":
        for obj in objects():
            print(f"{kind.lower()}.argoproj.io/{_name_of(obj)}")
        return 0
    if args.output:
        sys.stdout.write(dump({"apiVersion": "v1", "kind": "List", "items": objects()}, args.output))
        return 0
    if args.watch:
        watch(lambda: Frame(table()), stream=sys.stdout, live=sys.stdout.isatty())
        return 0
    sys.stdout.write(table())
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("list", help="List rollouts or experiments")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for name, aliases in (("rollouts", ["ro", "rollout"]), ("experiments", ["exp", "experiment"])):
        sub = kinds.add_parser(
            name,
            aliases=aliases,
            parents=[connection_flags(all_namespaces=True)],
            help=f"List {name}",
            epilog=f"examples:\n  kubectl rollouts list {name}\n  kubectl rollouts list {name} -A\n"
            f"  kubectl rollouts list {name} -o name\n",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--name", help=f"only the {name[:-1]} with this name")
        sub.add_argument("-w", "--watch", action="store_true", help="keep the list up to date until Ctrl-C")
        sub.add_argument("-o", "--output", choices=("json", "yaml", "name"), help="output format")
        sub.set_defaults(func=_run, kind_name=name)
