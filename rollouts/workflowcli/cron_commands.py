"""``rollouts workflow cron create|list|get|delete|suspend|resume``: CronWorkflows, as ``argo cron``.

The parser and the I/O; reading and the screens are in `cron` (pure). Objects are our
``CronWorkflow`` kind (``workflows.rollouts.dev``); ``create`` takes Argo's manifests as they
are. Bad input prints ``error: ...`` and exits 2 with nothing created; API failures exit 1.
``suspend``/``resume`` merge-patch ``spec.suspend``, as ``argo cron suspend|resume`` do.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Final

from analysis.workflows.cron_model import CRON_PLURAL
from analysis.workflows.status import GROUP, VERSION
from rollouts.plugin.errors import PluginError
from rollouts.plugin.get import dump
from rollouts.plugin.kube import api_errors, connect_from
from rollouts.plugin.lint import read_manifest
from rollouts.plugin.options import connection_flags
from rollouts.plugin.tables import format_table
from rollouts.workflowcli.commands import guarded, utc_now
from rollouts.workflowcli.cron import cron_rows, describe, load_cron
from rollouts.workflowcli.manifests import BadInputError

__all__ = ["register"]

RESOURCE: Final = f"{CRON_PLURAL}.{GROUP}"
HEADERS: Final = ["NAME", "AGE", "LAST RUN", "NEXT RUN", "SCHEDULES", "TIMEZONE", "SUSPENDED"]


def _objects(args: argparse.Namespace) -> tuple[Any, str]:
    from kubernetes import client

    cluster = connect_from(args)
    return client.CustomObjectsApi(cluster.api_client), cluster.namespace


@guarded
def create_command(args: argparse.Namespace) -> int:
    try:
        text = read_manifest(args.file)
    except PluginError as error:  # an unreadable file is bad input too
        raise BadInputError(error.message) from None
    cron = load_cron(args.file, text)
    api, namespace = _objects(args)
    body = cron.to_dict()
    body["metadata"] = {**body["metadata"], "namespace": namespace}
    body.pop("status", None)
    with api_errors(RESOURCE):
        created = api.create_namespaced_custom_object(GROUP, VERSION, namespace, CRON_PLURAL, body)
    if args.output:
        sys.stdout.write(dump(created, args.output))
    else:
        sys.stdout.write(describe(created, utc_now()))
    return 0


@guarded
def list_command(args: argparse.Namespace) -> int:
    api, namespace = _objects(args)
    with api_errors(RESOURCE):
        if args.all_namespaces:
            listed = api.list_cluster_custom_object(GROUP, VERSION, CRON_PLURAL)
        else:
            listed = api.list_namespaced_custom_object(GROUP, VERSION, namespace, CRON_PLURAL)
    items = list(listed.get("items") or [])
    if args.output:
        sys.stdout.write(dump(items, args.output))
        return 0
    if not items:
        sys.stdout.write("No cron workflows found\n")
        return 0
    headers = ["NAMESPACE", *HEADERS] if args.all_namespaces else HEADERS
    sys.stdout.write(format_table(headers, cron_rows(items, utc_now(), namespaces=args.all_namespaces)))
    return 0


@guarded
def get_command(args: argparse.Namespace) -> int:
    api, namespace = _objects(args)
    with api_errors(RESOURCE, args.name):
        found = api.get_namespaced_custom_object(GROUP, VERSION, namespace, CRON_PLURAL, args.name)
    sys.stdout.write(dump(found, args.output) if args.output else describe(found, utc_now()))
    return 0


@guarded
def delete_command(args: argparse.Namespace) -> int:
    api, namespace = _objects(args)
    with api_errors(RESOURCE, args.name):
        # its WorkflowRuns are owned by it: the garbage collector deletes them too
        api.delete_namespaced_custom_object(GROUP, VERSION, namespace, CRON_PLURAL, args.name)
    print(f'CronWorkflow "{args.name}" deleted')
    return 0


def _suspension(suspend: bool, word: str) -> Any:
    @guarded
    def command(args: argparse.Namespace) -> int:
        api, namespace = _objects(args)
        with api_errors(RESOURCE, args.name):
            api.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, CRON_PLURAL, args.name, {"spec": {"suspend": suspend}}
            )
        print(f"CronWorkflow '{args.name}' {word}")
        return 0

    return command


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cron`` and its subcommands under ``rollouts workflow``."""
    cron = commands.add_parser(
        "cron",
        help="manage CronWorkflows, as argo cron",
        description="CronWorkflows (our kind workflows.rollouts.dev, short name cwfr) run by the controller.",
    )
    verbs = cron.add_subparsers(dest="cron_command", metavar="COMMAND")
    verbs.required = True
    connection = connection_flags()

    create = verbs.add_parser("create", parents=[connection], help="create a CronWorkflow from a manifest")
    create.add_argument("file", metavar="FILE", help="an Argo CronWorkflow manifest (- for stdin)")
    create.add_argument("-o", "--output", choices=("json", "yaml"))
    create.set_defaults(func=create_command)

    listing = verbs.add_parser(
        "list", parents=[connection_flags(all_namespaces=True)], help="list CronWorkflows"
    )
    listing.add_argument("-o", "--output", choices=("json", "yaml"))
    listing.set_defaults(func=list_command)

    get = verbs.add_parser("get", parents=[connection], help="show a CronWorkflow")
    get.add_argument("name", metavar="NAME")
    get.add_argument("-o", "--output", choices=("json", "yaml"))
    get.set_defaults(func=get_command)

    for verb, func, what in (
        ("delete", delete_command, "delete a CronWorkflow and its runs"),
        ("suspend", _suspension(True, "suspended"), "stop scheduling new runs"),
        ("resume", _suspension(False, "resumed"), "schedule runs again"),
    ):
        parser = verbs.add_parser(verb, parents=[connection], help=what)
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(func=func)
