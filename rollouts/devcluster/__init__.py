"""The devcluster: a real Kubernetes control plane on loopback for tests and the demo.

The Go program in ``hack/devcluster`` runs etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and the fake kubelet; this package builds it, starts and stops it, and installs
third-party CRDs. ``DevCluster`` is the public API (used by ``rollouts dev-cluster``, the pytest
fixtures and the demo); the modules behind it are split into pure parts (state, kubeconfig,
command line, build key, CRD conversion) and the I/O that uses them.
"""

from rollouts.devcluster.addons import PINS as ADDON_PINS
from rollouts.devcluster.clusters import DevCluster, NodeStatus, Status
from rollouts.devcluster.errors import DevClusterError
from rollouts.devcluster.states import ClusterState

__all__ = ["ADDON_PINS", "ClusterState", "DevCluster", "DevClusterError", "NodeStatus", "Status"]
