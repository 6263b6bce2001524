"""The chart's crds/ holds the repository's CRDs unchanged, plus kopf's peering CRDs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[3]
CHART_CRDS = REPO / "charts" / "lakeserve" / "crds"
PEERINGS = "kopf.dev-peerings.yaml"


def test_every_repository_crd_has_an_identical_copy_in_the_chart():
    for source in sorted((REPO / "crds").glob("*.yaml")):
        copy = CHART_CRDS / source.name
        assert copy.exists(), f"charts/lakeserve/crds/{source.name} is missing: copy crds/ over"
        assert copy.read_text() == source.read_text(), (
            f"charts/lakeserve/crds/{source.name} differs from crds/{source.name}: copy it over "
            f"after `make crds`")


def test_the_chart_has_no_other_crds_than_those_and_kopfs_peerings():
    expected = {p.name for p in (REPO / "crds").glob("*.yaml")} | {PEERINGS}
    assert {p.name for p in CHART_CRDS.iterdir()} == expected


@pytest.mark.parametrize("name, kind, scope", [
    ("clusterkopfpeerings.kopf.dev", "ClusterKopfPeering", "Cluster"),
    ("kopfpeerings.kopf.dev", "KopfPeering", "Namespaced"),
])
def test_kopf_peering_crds_are_what_kopf_looks_for(name, kind, scope):
    # kopf 1.45 looks for kopf.dev/v1 clusterkopfpeerings / kopfpeerings and patches their status
    # on the main resource (no status subresource) with an entry per operator identity.
    documents = {d["metadata"]["name"]: d for d in
                 yaml.safe_load_all((CHART_CRDS / PEERINGS).read_text())}
    crd = documents[name]
    assert crd["spec"]["group"] == "kopf.dev"
    assert crd["spec"]["scope"] == scope
    assert crd["spec"]["names"]["kind"] == kind
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1" and version["served"] and version["storage"]
    assert "subresources" not in version
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert status == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
