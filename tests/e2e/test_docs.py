"""Manifests shown in the README and docs are valid against the real API server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def manifests():
    for path in DOCUMENTS:
        for block in re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S):
            for document in yaml.safe_load_all(block):
                if isinstance(document, dict) and \
                        str(document.get("apiVersion", "")).startswith("lakeserve.dev/"):
                    yield pytest.param(document, id=f"{path.name}:{document['kind']}/"
                                                    f"{document['metadata']['name']}")


@pytest.mark.parametrize("manifest", list(manifests()))
def test_documented_manifest_is_accepted(manifest, cluster):
    manifest["metadata"].pop("namespace", None)  # checked in the test's namespace
    result = cluster.kubectl("apply", "--dry-run=server", "-n", cluster.namespace, "-f", "-",
                             input=yaml.safe_dump(manifest), check=False)
    assert result.returncode == 0, result.stderr
