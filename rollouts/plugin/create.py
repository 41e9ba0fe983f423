"""``kubectl rollouts create -f FILE``: create Argo objects (Rollout, Experiment,
AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun) from a manifest file.

Every object is checked against our models before anything is sent, so a file with one bad
object creates nothing; other kinds are refused with a pointer to ``kubectl create``. ``--watch``
then follows the one Rollout or Experiment created, as ``get --watch`` does.
"""

from __future__ import annotations

import argparse
from typing import Any

from analysis.models import ManifestError
from rollouts.plugin.errors import PluginError
from rollouts.plugin.get import add_watch_flags, run_get
from rollouts.plugin.kube import ARGO_KINDS, connect_from
from rollouts.plugin.linemaps import YamlError, parse_documents
from rollouts.plugin.lint import read_manifest
from rollouts.plugin.linting import MODELS
from rollouts.plugin.options import connection_flags, filename_flag

__all__ = ["register"]


def checked_objects(name: str, text: str) -> list[dict[str, Any]]:
    """The objects of a manifest file, each validated; `PluginError` for the first bad one."""
    try:
        documents = parse_documents(text)
    except YamlError as error:
        raise PluginError(f"{name}:{error.line}: {error}") from None
    objects = []
    for number, document in enumerate(documents, start=1):
        value = document.value
        if value is None:
            continue
        if not isinstance(value, dict) or not value.get("apiVersion") or not value.get("kind"):
            raise PluginError(f"{name}:{document.line}: document {number} is not a Kubernetes object")
        kind = str(value["kind"])
        if kind not in ARGO_KINDS or not str(value["apiVersion"]).startswith("argoproj.io/"):
            raise PluginError(
                f"{name}:{document.line}: {value['apiVersion']} {kind} is not an Argo Rollouts kind; "
                "use kubectl create for it"
            )
        try:
            MODELS[kind].from_dict(value)
        except ManifestError as error:
            raise PluginError(f"{name}:{document.line}: {error}") from None
        objects.append(value)
    if not objects:
        raise PluginError(f"{name}: no objects to create")
    return objects


def _run(args: argparse.Namespace) -> int:
    objects = []
    for name in args.filename:
        objects += checked_objects(name, read_manifest(name))
    cluster = connect_from(args)
    created = []
    for obj in objects:
        result = cluster.create(obj)
        kind = str(obj["kind"])
        name = str(result.get("metadata", {}).get("name"))
        created.append((kind, name))
        print(f"{kind.lower()}.argoproj.io/{name} created")
    if args.watch:
        watchable = [(kind, name) for kind, name in created if kind in ("Rollout", "Experiment")]
        if len(watchable) != 1:
            raise PluginError("--watch needs exactly one Rollout or Experiment in the files")
        kind, name = watchable[0]
        return run_get(args, kind, name)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "create",
        parents=[connection_flags()],
        help="Create Rollouts, Experiments, AnalysisTemplates or AnalysisRuns from a file",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        epilog="examples:\n  kubectl rollouts create -f rollout.yaml\n"
        "  kubectl rollouts create -f experiment.yaml --watch --until-done\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    filename_flag(parser, repeatable=True)
    add_watch_flags(parser, "rollout or experiment")
    parser.set_defaults(func=_run)
