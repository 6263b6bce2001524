"""Command lines of the control-plane components."""

from pathlib import Path

import pytest

from lakeserve.devcluster.components import (
    apiserver_command,
    controller_manager_command,
    etcd_command,
)
from lakeserve.devcluster.credentials import Credentials

pytestmark = pytest.mark.timeout(10)

PKI = Path("/state/pki")
CREDENTIALS = Credentials(
    ca_cert=PKI / "ca.crt", serving_cert=PKI / "apiserver.crt", serving_key=PKI / "apiserver.key",
    service_account_key=PKI / "sa.key", service_account_public_key=PKI / "sa.pub",
    token_file=PKI / "tokens.csv", admin_token="a", controller_manager_token="c")


def _flags(argv: list[str]) -> dict[str, str]:
    return dict(arg.removeprefix("--").partition("=")[::2] for arg in argv[1:])


def test_etcd_listens_on_loopback_only():
    flags = _flags(etcd_command(Path("/bin/etcd"), Path("/state/etcd"), 2379, 2380))
    assert flags["listen-client-urls"] == "http://127.0.0.1:2379"
    assert flags["listen-peer-urls"] == "http://127.0.0.1:2380"
    assert flags["initial-cluster"] == "lakeserve-dev=http://127.0.0.1:2380"


def test_apiserver_uses_rbac_tokens_and_our_serving_certificate():
    argv = apiserver_command(Path("/bin/kube-apiserver"), CREDENTIALS, 6443, 2379)
    flags = _flags(argv)
    assert argv[0] == "/bin/kube-apiserver"
    assert flags["bind-address"] == "127.0.0.1"
    assert flags["secure-port"] == "6443"
    assert flags["etcd-servers"] == "http://127.0.0.1:2379"
    assert flags["authorization-mode"] == "RBAC"
    assert flags["token-auth-file"] == str(PKI / "tokens.csv")
    assert flags["tls-cert-file"] == str(PKI / "apiserver.crt")
    assert flags["service-account-signing-key-file"] == str(PKI / "sa.key")


def test_controller_manager_runs_the_controllers_that_work_without_nodes():
    flags = _flags(controller_manager_command(Path("/bin/kcm"), CREDENTIALS,
                                              Path("/state/pki/kcm.kubeconfig"), 10257,
                                              Path("/state/pki/kcm")))
    controllers = flags["controllers"].split(",")
    for needed in ("namespace-controller", "garbage-collector-controller",
                   "serviceaccount-controller"):
        assert needed in controllers
    assert not any("node" in controller for controller in controllers)
    assert flags["bind-address"] == "127.0.0.1"
    assert flags["leader-elect"] == "false"
    assert flags["kubeconfig"] == "/state/pki/kcm.kubeconfig"



def test_the_apiserver_audits_who_reads_secrets_and_nothing_else(tmp_path):
    import yaml

    from lakeserve.devcluster.components import AUDIT_POLICY, audit_flags

    flags = _flags(apiserver_command(Path("/bin/kube-apiserver"), CREDENTIALS, 6443, 2379,
                                     audit=audit_flags(tmp_path / "p.yaml", tmp_path / "a.log")))
    assert flags["audit-policy-file"] == str(tmp_path / "p.yaml")
    assert flags["audit-log-path"] == str(tmp_path / "a.log")
    policy = yaml.safe_load(AUDIT_POLICY)
    assert policy["rules"] == [{"level": "Metadata", "resources": [
        {"group": "", "resources": ["secrets"]}]}, {"level": "None"}]
    assert "audit-policy-file" not in _flags(apiserver_command(
        Path("/bin/kube-apiserver"), CREDENTIALS, 6443, 2379))


def test_a_benchmark_audit_log_is_written_in_batches(tmp_path):
    from lakeserve.devcluster.components import audit_flags

    flags = _flags(apiserver_command(Path("/bin/kube-apiserver"), CREDENTIALS, 6443, 2379,
                                     audit=audit_flags(tmp_path / "p.yaml", tmp_path / "a.log",
                                                       batch=True)))
    assert flags["audit-log-mode"] == "batch", "requests must not wait on the log file"
