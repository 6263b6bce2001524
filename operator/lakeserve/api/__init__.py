"""Pydantic models of every kind's spec and status; the CRDs are generated from them."""

from lakeserve.api import featurefunction, featurespec, onlinetable, servingendpoint
from lakeserve.api.crd import KindInfo

KINDS: list[KindInfo] = [servingendpoint.INFO, onlinetable.INFO, featurefunction.INFO,
                         featurespec.INFO]


def kind_info(kind: str) -> KindInfo:
    for info in KINDS:
        if info.kind == kind:
            return info
    raise KeyError(kind)
