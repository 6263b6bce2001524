"""Keys, certificates and tokens generated for a dev cluster."""

import ipaddress
import stat

import pytest
from cryptography import x509

from lakeserve.devcluster.credentials import (
    ADMIN_USER,
    CONTROLLER_MANAGER_USER,
    ensure_credentials,
    read_token_file,
    render_token_file,
)

pytestmark = pytest.mark.timeout(20)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_owner_readable_only(tmp_path):
    credentials = ensure_credentials(tmp_path / "pki")
    for secret in (credentials.serving_key, credentials.service_account_key,
                   credentials.token_file, tmp_path / "pki" / "ca.key"):
        assert _mode(secret) == 0o600, secret
    assert _mode(tmp_path / "pki") == 0o700


def test_tokens_are_random_distinct_and_in_the_token_file(tmp_path):
    credentials = ensure_credentials(tmp_path / "a")
    other = ensure_credentials(tmp_path / "b")
    assert len(credentials.admin_token) >= 32
    assert credentials.admin_token != credentials.controller_manager_token
    assert credentials.admin_token != other.admin_token
    assert read_token_file(credentials.token_file) == {
        ADMIN_USER: credentials.admin_token,
        CONTROLLER_MANAGER_USER: credentials.controller_manager_token,
    }


def test_a_second_call_reuses_everything(tmp_path):
    first = ensure_credentials(tmp_path)
    contents = {path: path.read_bytes() for path in tmp_path.iterdir() if path.is_file()}
    second = ensure_credentials(tmp_path)
    assert second == first
    assert {path: path.read_bytes() for path in contents} == contents


def test_serving_certificate_is_signed_by_the_ca_for_loopback_and_in_cluster_names(tmp_path):
    credentials = ensure_credentials(tmp_path)
    ca = x509.load_pem_x509_certificate(credentials.ca_cert.read_bytes())
    serving = x509.load_pem_x509_certificate(credentials.serving_cert.read_bytes())
    serving.verify_directly_issued_by(ca)
    names = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert {"localhost", "kubernetes.default.svc"} <= set(names.get_values_for_type(x509.DNSName))


def test_token_file_groups_with_commas_are_quoted():
    text = render_token_file({"alice": "t1"})
    assert text == 't1,alice,alice,system:masters\n'
