"""kubeconfig files pointing at the dev cluster with a bearer token."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from lakeserve.devcluster.files import write_private

CONTEXT_NAME = "lakeserve-dev"


def render_kubeconfig(server: str, token: str, ca_pem: bytes, user: str = "lakeserve-admin") -> str:
    """A single-context kubeconfig for ``server``.

    The CA is embedded rather than referenced so the file keeps working when copied elsewhere,
    and verified TLS keeps clients (kubectl, the Python client, kopf) free of insecure warnings.
    """
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT_NAME, "cluster": {
            "server": server,
            "certificate-authority-data": base64.b64encode(ca_pem).decode(),
        }}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT_NAME, "context": {"cluster": CONTEXT_NAME, "user": user}}],
        "current-context": CONTEXT_NAME,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write_kubeconfig(path: Path, server: str, token: str, ca_pem: bytes,
                     user: str = "lakeserve-admin") -> Path:
    """Write the kubeconfig owner-readable only: it carries a cluster-admin token."""
    write_private(path, render_kubeconfig(server, token, ca_pem, user))
    return path
