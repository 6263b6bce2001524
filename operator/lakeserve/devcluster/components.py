"""Command lines of the three control-plane components.

Everything listens on 127.0.0.1 only: the cluster is for this machine's tests and demo.
"""

from __future__ import annotations

from pathlib import Path

from lakeserve.devcluster.credentials import Credentials
from lakeserve.devcluster.ports import LOOPBACK

SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"

# Controllers that matter without nodes: namespaces finish deleting, owner references are
# garbage-collected, every namespace gets its `default` ServiceAccount and kube-root-ca.crt,
# aggregated ClusterRoles (admin/edit/view) get their rules, and token Secrets get filled.
CONTROLLERS = (
    "namespace-controller",
    "garbage-collector-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "clusterrole-aggregation-controller",
)


def etcd_url(port: int) -> str:
    return f"http://{LOOPBACK}:{port}"


def apiserver_url(port: int) -> str:
    return f"https://{LOOPBACK}:{port}"


def etcd_command(binary: Path, data_dir: Path, client_port: int, peer_port: int) -> list[str]:
    peer_url = etcd_url(peer_port)
    return [
        str(binary),
        "--name=lakeserve-dev",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={etcd_url(client_port)}",
        f"--advertise-client-urls={etcd_url(client_port)}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=lakeserve-dev={peer_url}",
        # A throwaway cluster: losing the last writes on a power cut is fine, fsync latency is not.
        "--unsafe-no-fsync",
    ]


# Audit only who reads or writes Secrets (Metadata level: never their values), so tests can
# prove which Secrets a component read.
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: None
"""


def audit_flags(policy: Path, log: Path, batch: bool = False) -> list[str]:
    """``batch``: entries are written in the background, so requests do not wait on the file
    (benchmarks log every write; the entries then come about a second late)."""
    return [f"--audit-policy-file={policy}", f"--audit-log-path={log}",
            "--audit-log-maxsize=100", "--audit-log-maxbackup=1",
            *(["--audit-log-mode=batch"] if batch else [])]


def apiserver_command(binary: Path, credentials: Credentials, port: int,
                      etcd_client_port: int, audit: list[str] | None = None) -> list[str]:
    return [
        str(binary),
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--etcd-servers={etcd_url(etcd_client_port)}",
        f"--tls-cert-file={credentials.serving_cert}",
        f"--tls-private-key-file={credentials.serving_key}",
        f"--token-auth-file={credentials.token_file}",
        "--authorization-mode=RBAC",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={credentials.service_account_public_key}",
        f"--service-account-signing-key-file={credentials.service_account_key}",
        # Without nodes no Pod ever runs, and this plugin would reject Pods created in a fresh
        # namespace before its `default` ServiceAccount appears.
        "--disable-admission-plugins=ServiceAccount",
        "--allow-privileged=true",
        "--profiling=false",
        *(audit or []),
    ]


def controller_manager_command(binary: Path, credentials: Credentials, kubeconfig: Path,
                               port: int, cert_dir: Path) -> list[str]:
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        # Nobody presents client certificates here; without this it keeps logging that the
        # API server published no client CA for front proxies.
        "--authentication-skip-lookup",
        f"--bind-address={LOOPBACK}",
        f"--secure-port={port}",
        f"--cert-dir={cert_dir}",
        f"--controllers={','.join(CONTROLLERS)}",
        # One instance only; leader election would just delay the start by a lease period.
        "--leader-elect=false",
        # Run every controller with the manager's own (cluster-admin) token rather than minting
        # one service account per controller.
        "--use-service-account-credentials=false",
        f"--service-account-private-key-file={credentials.service_account_key}",
        f"--root-ca-file={credentials.ca_cert}",
        "--profiling=false",
    ]
