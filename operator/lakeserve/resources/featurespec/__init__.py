"""FeatureSpec's external client: feature specs through the Feature Engineering API."""

from lakeserve.resources.featurespec.client import FeatureSpecClient

__all__ = ["FeatureSpecClient"]
