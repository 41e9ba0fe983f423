"""``rollouts demo``: the README's main job, run locally on the devcluster.

Today it brings up the devcluster, installs our CRDs and applies the example canary with its
AnalysisTemplate; the controller, a progressing canary and the dashboard join as their issues
land. It is idempotent: a second run reuses a running devcluster and re-applies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rollouts.devcluster import DevCluster, DevClusterError
from rollouts.manifests import ManifestFileError, apply_documents, load_documents

DEMO_NAMESPACE = "rollouts-demo"
DEMO_MANIFESTS = ("analysistemplate-prometheus.yaml", "canary-basic.yaml")


def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


def _say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _ensure_namespace(api_client: Any, name: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        client.CoreV1Api(api_client).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
        )
    except ApiException as error:
        if error.status != 409:  # already there is fine
            raise


def run(args: argparse.Namespace) -> int:
    from kubernetes.client.exceptions import ApiException

    from rollouts.crds.install import CrdInstallError, install_crds

    cluster = DevCluster(args.dir, progress=_say)
    try:
        if cluster.is_running():
            _say(f"reusing the devcluster running in {cluster.directory}")
        else:
            cluster.up(nodes=args.nodes)
        with cluster.api_client() as api_client:
            names = install_crds(api_client)
            _say(f"CRDs installed: {', '.join(names)}")
            _ensure_namespace(api_client, DEMO_NAMESPACE)
            for manifest in DEMO_MANIFESTS:
                applied = apply_documents(
                    api_client, load_documents(examples_dir() / manifest), DEMO_NAMESPACE
                )
                _say(f"applied {', '.join(applied)} in namespace {DEMO_NAMESPACE}")
    except (DevClusterError, CrdInstallError, ManifestFileError) as error:
        print(f"demo: error: {error}", file=sys.stderr)
        return 1
    except ApiException as error:
        print(f"demo: the API server refused a request: {error.status} {error.reason}", file=sys.stderr)
        return 1
    print()
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    print(f"kubectl -n {DEMO_NAMESPACE} get rollouts,analysistemplates,services")
    print(f"rollouts dev-cluster down --dir {args.dir}   # when you are done")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the local demo on the devcluster")
    parser.add_argument("--dir", default=".devcluster", help="devcluster directory (default .devcluster)")
    parser.add_argument("--nodes", type=int, default=3, help="fake nodes to start (default 3)")
    parser.set_defaults(func=run)
