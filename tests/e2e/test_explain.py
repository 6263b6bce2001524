"""`kubectl explain` documents every kind from the CRDs' descriptions."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

# (field path, a phrase of its description)
FIELDS = [
    ("servingendpoint.spec.config.servedEntities.entityAlias", "Unity Catalog alias to serve"),
    ("servingendpoint.status.lastAppliedConfig", "last sent"),
    ("onlinetable.spec.syncMode", "Snapshot copies the whole table"),
    ("onlinetable.status.syncedRowCount", "Rows copied"),
    ("featurefunction.spec.body", "The Python body"),
    ("featurefunction.spec.warehouseId", "CREATE OR REPLACE FUNCTION"),
    ("featurespec.spec.features.featureFunction.udfRef", "the spec waits until it is Ready"),
    ("featurespec.spec.features.featureLookup.lookupKeys", "matched, in order, to the table's"),
    ("workspace.spec.credentialsSecretRef", "keys of exactly one auth method"),
    ("clusterworkspace.spec.allowedNamespaces", "{} admits every namespace"),
    ("workspace.status.identity", "application id"),
    ("servingendpoint.spec.workspaceRef.namespace", "Only this object's own namespace"),
    ("featurespec.spec.workspaceRef.name", "metadata.name of it"),
]


@pytest.mark.parametrize("path, phrase", FIELDS, ids=[f[0] for f in FIELDS])
def test_explain(path, phrase, kubectl, crds, poll):
    # discovery of freshly established CRDs can lag a moment behind the condition
    result = poll(lambda: (lambda r: r if r.returncode == 0 else None)(
        kubectl("explain", path, check=False)), timeout=30, message=f"kubectl explain {path}")
    assert phrase in " ".join(result.stdout.split())
