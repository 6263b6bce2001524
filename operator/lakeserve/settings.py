"""Operator settings, read once from LAKESERVE_* environment variables.

Databricks credentials are not here: they come from the SDK's own DATABRICKS_* variables (or a
Secret named by LAKESERVE_CREDENTIALS_SECRET), so the SDK's whole auth chain keeps working.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Settings:
    # Seconds between drift checks of a Ready object.
    drift_interval: float = 300.0
    # First poll after a write (and while Databricks converges); grows by converge_growth up to
    # converge_max.
    converge_interval: float = 1.0
    converge_growth: float = 1.5
    converge_max: float = 60.0
    # Backoff after transient errors: error_backoff * 2^n, capped at error_backoff_max.
    error_backoff: float = 5.0
    error_backoff_max: float = 300.0
    # Client-side limit on create/update calls per workspace (Databricks: 50 per 5 minutes);
    # 0 turns it off. With shards, each takes write_limit / shard_count of it.
    write_limit: int = 50
    write_window: float = 300.0
    # This shard's writes per window instead of the even split (0: the even split).
    write_share: int = 0
    # Shards: this replica handles the objects labelled lakeserve.dev/shard=<shard_index> (shard
    # 0 also the unlabelled ones) of shard_count; see lakeserve.sharding.
    shard_index: int = 0
    shard_count: int = 1
    # Threads for the blocking SDK calls.
    workers: int = 16
    # SDK timeouts: per HTTP request, and the SDK's own retry budget per call.
    http_timeout: float = 30.0
    retry_timeout: float = 15.0
    # Longest sleep the SDK may do inside a call (a longer Retry-After requeues instead).
    max_sdk_sleep: float = 5.0
    # "namespace/name" of a Secret holding DATABRICKS_* keys; empty = use the environment.
    credentials_secret: str = ""
    # Seconds between reads of that Secret (to pick up rotation, deletion and restoring), and of
    # a Workspace's Secret and a namespace's labels (ClusterWorkspace admission).
    secret_refresh: float = 30.0
    # Backoff after Databricks refused a create or update: refused_backoff * 2^(n-1) seconds,
    # capped at refused_backoff_max, until the spec, a dependency or an annotation changes.
    refused_backoff: float = 60.0
    refused_backoff_max: float = 3600.0
    # text or json
    log_format: str = "text"
    # Port for Prometheus /metrics; 0 disables.
    metrics_port: int = 0
    # Name of a (Cluster)KopfPeering object: replicas then run active/standby. Empty: one
    # replica, no peering.
    peering: str = ""
    # This replica's peering priority (highest wins); 0 picks a random one, so that replicas of
    # one Deployment never tie (kopf pauses all operators of equal priority).
    peering_priority: int = 0
    # Seconds a replica's keep-alive counts; a replica killed without a goodbye is taken over
    # once it expires.
    peering_lifetime: int = 60
    # Identity written into the owner tag of endpoints, so two clusters sharing a workspace
    # do not fight over the same endpoint.
    owner_prefix: str = ""
    # Whether objects without spec.workspaceRef use the default workspace above (environment or
    # credentials_secret); false makes them stall with WorkspaceNotAllowed.
    default_workspace: bool = True
    # The operator's own namespace, where ClusterWorkspace Secrets live; empty: the in-cluster
    # service account's namespace, else the namespace of credentials_secret.
    operator_namespace: str = ""
    # Whether this installation serves ClusterWorkspaces (one installation per cluster should).
    cluster_workspaces: bool = True
    # Longest wait for a Databricks client to be set up (host metadata, OAuth discovery).
    client_build_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.shard_count < 1 or not 0 <= self.shard_index < self.shard_count:
            raise ValueError(f"LAKESERVE_SHARD_INDEX={self.shard_index} must be at least 0 and "
                             f"below LAKESERVE_SHARD_COUNT={self.shard_count} (at least 1)")

    @property
    def writes_per_window(self) -> int:
        """This replica's share of the default write limit; 0 means no limit."""
        if self.write_limit <= 0:
            return 0
        return self.write_share or self.share_of(self.write_limit)

    def share_of(self, limit: int) -> int:
        """This replica's even part of a workspace's write limit (a Workspace's writeLimit):
        limit / shard_count; 0 stays 0, no limit."""
        return max(1, limit // self.shard_count) if limit > 0 else 0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"LAKESERVE_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, raw, type(getattr(cls, f.name)))
        return cls(**values)


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _parse(name: str, raw: str, kind: type) -> object:
    if kind is bool:
        if raw.strip().lower() not in _BOOLEANS:
            raise ValueError(f"LAKESERVE_{name.upper()}={raw!r} is not true or false")
        return _BOOLEANS[raw.strip().lower()]
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"LAKESERVE_{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
