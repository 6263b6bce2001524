"""A rotated credentials Secret is used on the next pass: no restart, no write, no flap; a
deleted Secret stalls the Workspace (its objects wait), and restoring it recovers everything."""

from __future__ import annotations

import uuid

import pytest

from lakeserve.reconcile import reasons
from tests.e2e.workspaces.conftest import (
    condition,
    endpoint,
    reads_as,
    reason,
    secret,
    workspace_object,
    writes,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180),
              pytest.mark.emulator_only("rotates the local workspace's token through "
                                         "/_emulator/")]


@pytest.fixture
def tokens(workspace, run_record):
    """Two extra tokens of the local workspace, each acting as its own user."""
    emulator = workspace.require_emulator()
    run = uuid.uuid4().hex[:6]
    made = {f"rotation-{i}-{run}@lakeserve.dev": f"dapi-rotation-{i}-{uuid.uuid4().hex}"
            for i in (1, 2)}
    for user, token in made.items():
        emulator.control("POST", "/_emulator/tokens", {"token": token, "user_name": user})
        run_record.secret(token)
    yield list(made.items())
    for _, token in made.items():
        try:
            emulator.control("POST", "/_emulator/tokens/revoke", {"token": token})
        except Exception:  # noqa: BLE001 - revoked by the test already
            pass


@pytest.mark.produces(reasons.CREDENTIALS_NOT_FOUND, reasons.WAITING_FOR_WORKSPACE)
def test_rotation_while_objects_are_ready(operator, cluster, workspace, models, tokens, poll):
    emulator = workspace.require_emulator()
    (old_user, old_token), (new_user, new_token) = tokens
    model = f"main.e2e.rotation_{uuid.uuid4().hex[:6]}"
    models.register(model)
    names = [f"{cluster.namespace}-{i}" for i in (1, 2)]
    cluster.apply(secret("creds", DATABRICKS_TOKEN=old_token))
    cluster.apply(workspace_object("rotating", workspace.host, "creds"))
    for name in names:
        cluster.apply(endpoint(name, model, "rotating"))
    ready_since = {name: condition(cluster.wait("servingendpoint", name), "Ready")
                   ["lastTransitionTime"] for name in names}
    assert cluster.wait("workspace", "rotating")["status"]["identity"] == old_user
    pid, since = operator.pid, workspace.last_seq()

    cluster.apply(secret("creds", DATABRICKS_TOKEN=new_token))
    poll(lambda: all(reads_as(workspace, since, name, new_user) for name in names) and
         cluster.get("workspace", "rotating")["status"].get("identity") == new_user,
         timeout=30, message="every object and the Workspace to use the new token")
    emulator.control("POST", "/_emulator/tokens/revoke", {"token": old_token})
    revoked = workspace.last_seq()
    poll(lambda: all(reads_as(workspace, revoked, name, new_user) for name in names),
         timeout=30, message="a pass of every object after the old token was revoked")

    calls = workspace.calls(since)["calls"]
    assert not [c for c in calls if c["status"] == 401], "no pass used the revoked token"
    assert writes(workspace, since, names) == [], "no write storm: nothing was written"
    for name in names:
        ready = condition(cluster.get("servingendpoint", name), "Ready")
        assert (ready["status"], ready["lastTransitionTime"]) == ("True", ready_since[name]), \
            "Ready the whole time"
        assert not [e for e in cluster.events(name) if e["type"] == "Warning"]
    assert operator.running() and operator.pid == pid, "no restart"

    # The Secret goes: the Workspace stalls, its objects wait; it comes back: all recover.
    cluster.kubectl("delete", "secret", "creds", "-n", cluster.namespace)
    stalled = cluster.wait("workspace", "rotating", condition="Stalled", timeout=30)
    assert condition(stalled, "Stalled")["reason"] == "CredentialsNotFound"
    for name in names:
        poll(lambda: reason(cluster, "servingendpoint", name) == "WaitingForWorkspace",
             timeout=30, message=f"{name} to wait for its workspace")
    cluster.apply(secret("creds", DATABRICKS_TOKEN=new_token))
    cluster.wait("workspace", "rotating", timeout=30)
    for name in names:
        cluster.wait("servingendpoint", name, timeout=30)
    assert writes(workspace, since, names) == [], "nothing was recreated"
    assert operator.pid == pid
