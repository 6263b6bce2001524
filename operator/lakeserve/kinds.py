"""Every kind the operator manages: adding a kind is one api module, one resources module and
one entry here."""

from __future__ import annotations

from lakeserve.api import servingendpoint as servingendpoint_api
from lakeserve.reconcile.engine import Registration
from lakeserve.resources.servingendpoint import ServingEndpointClient
from lakeserve.settings import Settings


def registrations(settings: Settings) -> dict[str, Registration]:
    return {
        servingendpoint_api.KIND: Registration(
            info=servingendpoint_api.INFO,
            client_factory=lambda ws: ServingEndpointClient(ws, settings.owner_prefix),
            dependencies=lambda spec: list(spec.depends_on or []),
        ),
    }
