"""lakeserve: Databricks real-time serving, the GitOps way."""
__version__ = "0.1.0"
