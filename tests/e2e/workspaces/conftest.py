"""Helpers for the tests of Workspace objects run by the session's operator."""

from __future__ import annotations

API = "lakeserve.dev/v1alpha1"


def endpoint(name: str, model: str, workspace: str) -> dict:
    return {"apiVersion": API, "kind": "ServingEndpoint", "metadata": {"name": name},
            "spec": {"workspaceRef": {"name": workspace}, "config": {"servedEntities": [
                {"entityName": model, "entityVersion": "1", "workloadSize": "Small",
                 "scaleToZeroEnabled": True}]}}}


def workspace_object(name: str, host: str, secret: str) -> dict:
    return {"apiVersion": API, "kind": "Workspace", "metadata": {"name": name},
            "spec": {"host": host, "credentialsSecretRef": {"name": secret}}}


def secret(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": data}


def condition(body: dict, type_: str) -> dict:
    return next(c for c in body["status"]["conditions"] if c["type"] == type_)


def reason(cluster, kind: str, name: str) -> str | None:
    """The reason of the object's current state (the Ready condition carries it)."""
    body = cluster.get(kind, name) or {}
    if not (body.get("status") or {}).get("conditions"):
        return None
    return condition(body, "Ready")["reason"]


def writes(workspace, since: int, names: list[str]) -> list[dict]:
    """Every call since ``since`` that changed something about one of ``names``."""
    return [c for c in workspace.calls(since)["calls"] if c["method"] != "GET"
            and any(name in c["path"] or name in str(c.get("body")) for name in names)]


def reads_as(workspace, since: int, name: str, principal: str) -> bool:
    return any(c["method"] == "GET" and c["path"].endswith(f"/serving-endpoints/{name}")
               and c["principal"] == principal and c["status"] == 200
               for c in workspace.calls(since)["calls"])
