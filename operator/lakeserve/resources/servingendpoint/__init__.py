"""ServingEndpoint's external client: desired state, comparison, status facts, API calls."""

from lakeserve.resources.servingendpoint.client import ServingEndpointClient

__all__ = ["ServingEndpointClient"]
