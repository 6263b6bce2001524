"""OnlineTable's external client: Lakebase synced tables (and adopted legacy online tables)."""

from lakeserve.resources.onlinetable.client import OnlineTableClient

__all__ = ["OnlineTableClient"]
