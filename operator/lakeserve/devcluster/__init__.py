"""A real local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager).

Release binaries are not always downloadable, but the Go module proxy is, so the binaries are
compiled from pinned module versions on first use and cached outside the repository. The e2e
tests and the demo start the control plane in-process through :class:`DevCluster`; people use
``lakeserve dev-cluster up|down|status|build``.
"""

from lakeserve.devcluster.build import BuildError, Binaries, ensure_binaries, find_kubectl
from lakeserve.devcluster.cluster import ClusterError, ClusterStatus, DevCluster, down, status, up
from lakeserve.devcluster.versions import ETCD_VERSION, KUBERNETES_VERSION

__all__ = [
    "Binaries",
    "BuildError",
    "ClusterError",
    "ClusterStatus",
    "DevCluster",
    "ETCD_VERSION",
    "KUBERNETES_VERSION",
    "down",
    "ensure_binaries",
    "find_kubectl",
    "status",
    "up",
]
