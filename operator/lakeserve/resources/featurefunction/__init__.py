"""FeatureFunction's external client: Unity Catalog Python UDFs via SQL or the Functions API."""

from lakeserve.resources.featurefunction.client import FeatureFunctionClient

__all__ = ["FeatureFunctionClient"]
