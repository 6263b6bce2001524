"""Every kind the operator manages: adding a kind is one api module, one resources module and
one entry here."""

from __future__ import annotations

from lakeserve.api import featurefunction, featurespec, onlinetable, servingendpoint
from lakeserve.api.rollout import PROMOTE_REQUESTED_ANNOTATION, ROLLOUT_ABORT_ANNOTATION
from lakeserve.reconcile.engine import Registration
from lakeserve.resources.featurefunction import FeatureFunctionClient
from lakeserve.resources.featurespec import FeatureSpecClient
from lakeserve.resources.onlinetable import OnlineTableClient
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.settings import Settings


def registrations(settings: Settings) -> dict[str, Registration]:
    return {
        servingendpoint.KIND: Registration(
            info=servingendpoint.INFO,
            client_factory=lambda ws: ServingEndpointClient(ws, settings.owner_prefix),
            dependencies=lambda spec: list(spec.depends_on or []),
            watched_annotations=(ROLLOUT_ABORT_ANNOTATION, PROMOTE_REQUESTED_ANNOTATION),
            marks_ownership=True,  # the owner tag goes out with the create
        ),
        onlinetable.KIND: Registration(
            info=onlinetable.INFO,
            client_factory=OnlineTableClient,
            watched_annotations=(onlinetable.SYNC_REQUESTED_ANNOTATION,),
        ),
        featurefunction.KIND: Registration(
            info=featurefunction.INFO,
            client_factory=FeatureFunctionClient,
        ),
        featurespec.KIND: Registration(
            info=featurespec.INFO,
            client_factory=FeatureSpecClient,
            dependencies=lambda spec: spec.dependencies(),
        ),
    }
