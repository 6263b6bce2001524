"""The workspace's SQL warehouse: one serverless warehouse, always running."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from databricks.sdk.service.sql import (
    Channel,
    ChannelName,
    EndpointHealth,
    EndpointInfo,
    EndpointInfoWarehouseType,
    GetWarehouseResponse,
    GetWarehouseResponseWarehouseType,
    OdbcParams,
    SpotInstancePolicy,
    State,
    Status,
)

from lakeserve.emulator.errors import not_found

WAREHOUSE_ID = "emulator-warehouse"
WAREHOUSE_NAME = "Local Serverless Warehouse"


class Warehouses:
    def __init__(self, user: Callable[[], str]):
        self._user = user

    def require(self, warehouse_id: str) -> None:
        if warehouse_id != WAREHOUSE_ID:
            raise not_found(f"Warehouse '{warehouse_id}' does not exist.")

    def get(self, warehouse_id: str, base_url: str) -> GetWarehouseResponse:
        self.require(warehouse_id)
        info = self._info(base_url)
        fields = info.as_dict()
        fields["warehouse_type"] = GetWarehouseResponseWarehouseType.PRO.value
        return GetWarehouseResponse.from_dict(fields)

    def list(self, base_url: str) -> list[EndpointInfo]:
        return [self._info(base_url)]

    def _info(self, base_url: str) -> EndpointInfo:
        url = urlsplit(base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        path = f"/sql/1.0/warehouses/{WAREHOUSE_ID}"
        return EndpointInfo(
            id=WAREHOUSE_ID, name=WAREHOUSE_NAME, state=State.RUNNING, cluster_size="2X-Small",
            min_num_clusters=1, max_num_clusters=1, num_clusters=1, num_active_sessions=0,
            auto_stop_mins=10, enable_photon=True, enable_serverless_compute=True,
            warehouse_type=EndpointInfoWarehouseType.PRO, creator_name=self._user(),
            spot_instance_policy=SpotInstancePolicy.COST_OPTIMIZED,
            channel=Channel(name=ChannelName.CHANNEL_NAME_CURRENT),
            health=EndpointHealth(status=Status.HEALTHY),
            jdbc_url=f"jdbc:databricks://{url.hostname}:{port}/default;transportMode=http;"
                     f"ssl=0;AuthMech=3;httpPath={path};",
            odbc_params=OdbcParams(hostname=url.hostname, path=path, port=port,
                                   protocol=url.scheme or "http"))
