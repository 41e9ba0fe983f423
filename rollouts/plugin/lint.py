"""``kubectl rollouts lint -f FILE``: check manifests offline, before they reach a cluster.

Prints ``FILE:LINE: Kind/name: path: problem`` per finding (the checks are `linting`'s) and
exits 1 when there is any, 0 otherwise; ``-o json`` gives the findings as a list for tools.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rollouts.plugin.errors import PluginError
from rollouts.plugin.linting import Finding, lint_text
from rollouts.plugin.options import filename_flag

__all__ = ["read_manifest", "register"]


def read_manifest(name: str) -> str:
    """The text of a manifest file (``-`` for stdin), or a `PluginError` saying why not."""
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PluginError(f"cannot read {name}: no such file") from None
    except IsADirectoryError:
        raise PluginError(f"cannot read {name}: it is a directory") from None
    except UnicodeDecodeError:
        raise PluginError(f"cannot read {name}: not a UTF-8 text file") from None
    except OSError as error:
        raise PluginError(f"cannot read {name}: {error.strerror or error}") from None


def _run(args: argparse.Namespace) -> int:
    results: list[tuple[str, Finding]] = []
    for name in args.filename:
        results += [(name, finding) for finding in lint_text(read_manifest(name))]
    if args.output == "json":
        payload = [
            {"file": name, "line": f.line, "object": f.subject, "path": f.path, "message": f.message}
            for name, f in results
        ]
        print(json.dumps(payload, indent=2))
    else:
        for name, finding in results:
            print(f"{name}:{finding}")
        if not results:
            print(f"{', '.join(args.filename)}: no problems found")
    return 1 if results else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lint",
        help="Check Rollout manifests offline (schema, Argo's validation rules, Services in the file)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        epilog="examples:\n  kubectl rollouts lint -f rollout.yaml\n"
        "  kustomize build overlays/prod | kubectl rollouts lint -f -\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    filename_flag(parser, repeatable=True)
    parser.add_argument("-o", "--output", choices=("json",), help="print the findings as JSON")
    parser.set_defaults(func=_run)
