"""``rollouts crds generate|check|install``.

``generate`` rewrites the committed YAML files from the models, ``check`` fails (exit 1) when they
are out of date, ``install`` applies the CRDs built from the models in memory (so it works from an
installed package without the repository) and waits until they are Established.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rollouts.crds.generate import stale_files, write_files

__all__ = ["register"]

DEFAULT_DIRECTORY = Path("crds")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "crds",
        help="generate, check or install the argoproj.io CRDs",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    actions = parser.add_subparsers(dest="crds_command", metavar="ACTION")
    actions.required = True

    generate = actions.add_parser("generate", help="write crds/*.yaml from the models")
    generate.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="output directory")
    generate.set_defaults(func=_generate)

    check = actions.add_parser("check", help="exit 1 if crds/*.yaml differ from the models")
    check.add_argument("--dir", type=Path, default=DEFAULT_DIRECTORY, help="directory to check")
    check.set_defaults(func=_check)

    install = actions.add_parser("install", help="apply the CRDs to a cluster and wait until Established")
    install.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    install.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for Established")
    install.set_defaults(func=_install)


def _generate(args: argparse.Namespace) -> int:
    try:
        changed = write_files(args.dir)
    except OSError as error:
        print(f"cannot write CRDs to {args.dir}: {error}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print(f"{args.dir}: up to date")
    return 0


def _check(args: argparse.Namespace) -> int:
    stale = stale_files(args.dir)
    for path in stale:
        print(f"{path}: out of date (run `rollouts crds generate`)", file=sys.stderr)
    return 1 if stale else 0


def _install(args: argparse.Namespace) -> int:
    from kubernetes.config import new_client_from_config
    from kubernetes.config.config_exception import ConfigException

    from rollouts.crds.install import CrdInstallError, install_crds

    try:
        # The kubernetes package ships no annotations for its config loaders.
        api_client = new_client_from_config(config_file=args.kubeconfig)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError) as error:
        print(f"cannot load kubeconfig: {error}", file=sys.stderr)
        return 1
    try:
        with api_client:
            names = install_crds(api_client, timeout=args.timeout)
    except CrdInstallError as error:
        print(str(error), file=sys.stderr)
        return 1
    for name in names:
        print(f"{name} established")
    return 0
