"""Pydantic models of every kind's spec and status; the CRDs are generated from them."""

from lakeserve.api import featurefunction, featurespec, onlinetable, servingendpoint, workspace
from lakeserve.api.crd import KindInfo

# The kinds that manage a Databricks object, then the two that say which workspace it lives in.
MANAGED_KINDS: list[KindInfo] = [servingendpoint.INFO, onlinetable.INFO, featurefunction.INFO,
                                 featurespec.INFO]
WORKSPACE_KINDS: list[KindInfo] = [workspace.INFO, workspace.CLUSTER_INFO]
KINDS: list[KindInfo] = MANAGED_KINDS + WORKSPACE_KINDS


def kind_info(kind: str) -> KindInfo:
    for info in KINDS:
        if info.kind == kind:
            return info
    raise KeyError(kind)
