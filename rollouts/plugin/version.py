"""``kubectl rollouts version``: print the plugin's version."""

from __future__ import annotations

import argparse
import json
import platform

from rollouts import __version__


def version_info() -> dict[str, str]:
    return {"version": __version__, "python": platform.python_version(), "platform": platform.platform()}


def run(args: argparse.Namespace) -> int:
    info = version_info()
    if args.short:
        print(f"kubectl-rollouts: v{info['version']}")
    elif args.output == "json":
        print(json.dumps(info, indent=2))
    else:
        print(f"kubectl-rollouts: v{info['version']}")
        print(f"  Python: {info['python']}")
        print(f"  Platform: {info['platform']}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("version", help="Print the version")
    parser.add_argument("--short", action="store_true", help="print only the version")
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
    parser.set_defaults(func=run)
