"""The kubeconfig written for the dev cluster."""

import base64
import stat

import pytest
import yaml

from lakeserve.devcluster.kubeconfig import CONTEXT_NAME, render_kubeconfig, write_kubeconfig

pytestmark = pytest.mark.timeout(10)

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_renders_one_context_with_server_token_and_embedded_ca():
    config = yaml.safe_load(render_kubeconfig("https://127.0.0.1:6443", "s3cret", CA))
    assert config["current-context"] == CONTEXT_NAME
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == CA
    assert "insecure-skip-tls-verify" not in cluster["cluster"]
    (user,) = config["users"]
    assert user["user"] == {"token": "s3cret"}
    (context,) = config["contexts"]
    assert context["context"] == {"cluster": cluster["name"], "user": user["name"]}


def test_written_owner_readable_only(tmp_path):
    path = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:1", "t", CA, user="me")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text())["users"][0]["name"] == "me"
